// Writes openapi.json from the built app (dist/), the document /openapi.json serves. CI
// regenerates it and fails when the committed copy differs.
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { createApp, buildOpenApiDocument } = require('../dist/bootstrap');

async function main() {
  const app = await createApp({ DATA_DIR: 'memory://', LOG_LEVEL: 'error' });
  const document = buildOpenApiDocument(app);
  writeFileSync(join(__dirname, '..', 'openapi.json'), JSON.stringify(document, null, 2) + '\n');
  await app.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
