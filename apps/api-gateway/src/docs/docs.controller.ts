import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Controller, Get, Header, Inject, NotFoundException, Param, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ProblemFilter } from '../http/problem.filter';

/** The OpenAPI document, built once at start from the route specs. */
export const OPENAPI_DOCUMENT = 'api-gateway:OPENAPI';

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>Bifrost API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" />
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

// A separate script rather than an inline one, so a strict Content-Security-Policy can allow it.
const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' });
`;

/** `/openapi.json` and `/docs` (Swagger UI from the installed swagger-ui-dist, no CDN). */
@Controller()
@UseFilters(ProblemFilter)
export class DocsController {
  private readonly assetDir = dirname(require.resolve('swagger-ui-dist/package.json'));
  private readonly cache = new Map<string, Buffer>();

  constructor(@Inject(OPENAPI_DOCUMENT) private readonly document: Record<string, unknown>) {}

  @Get('openapi.json')
  openapi(): Record<string, unknown> {
    return this.document;
  }

  @Get('docs')
  @Header('content-type', 'text/html; charset=utf-8')
  page(): string {
    return PAGE;
  }

  @Get('docs/init.js')
  @Header('content-type', 'application/javascript; charset=utf-8')
  init(): string {
    return INIT;
  }

  @Get('docs/assets/:file')
  async asset(@Param('file') file: string, @Res() reply: FastifyReply): Promise<void> {
    const type = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (!type) throw new NotFoundException(`no asset ${file}`);
    let content = this.cache.get(file);
    if (!content) {
      content = await readFile(join(this.assetDir, file));
      this.cache.set(file, content);
    }
    await reply.header('content-type', type).header('cache-control', 'public, max-age=86400').send(content);
  }
}
