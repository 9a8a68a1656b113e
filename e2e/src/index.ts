// The end-to-end suite exports nothing; its specs start the real services as processes.
export {};
