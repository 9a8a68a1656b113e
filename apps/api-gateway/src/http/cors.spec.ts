import { corsOptions } from './cors';

describe('CORS options (GATEWAY_CORS_ALLOWED_ORIGINS)', () => {
  it('should send no CORS headers when no origin is allowed (the default)', () => {
    expect(corsOptions('')).toBeUndefined();
    expect(corsOptions(' , ')).toBeUndefined();
  });

  it('should allow exactly the origins listed', () => {
    expect(corsOptions('https://console.example.com, http://localhost:5173')).toMatchObject({
      origin: ['https://console.example.com', 'http://localhost:5173'],
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      exposedHeaders: ['Retry-After'],
    });
  });

  it('should allow any origin with *', () => {
    expect(corsOptions('*')).toMatchObject({ origin: '*' });
  });

  it.each(['console.example.com', 'https://console.example.com/', 'https://x.example.com/app', 'ftp://x'])(
    'should refuse %p, which is no origin, at start',
    (origin) => {
      expect(() => corsOptions(origin)).toThrow(`GATEWAY_CORS_ALLOWED_ORIGINS: "${origin}" is not an origin`);
    },
  );
});
