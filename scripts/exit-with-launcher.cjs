// Preloaded into every service `npm start` runs (scripts/start.mjs). The launcher hands each
// service a stdin pipe it never writes to; the pipe ends only when the launcher is gone. Killed
// hard (SIGKILL, a terminal torn down), the launcher cannot stop its services, which run in their
// own process groups: without this they would live on as orphans holding the ports. On that end
// a service stops as on SIGTERM: it drains and exits.
process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
process.stdin.resume();
// Reading stdin must not keep a service that has stopped from exiting.
process.stdin.unref();
