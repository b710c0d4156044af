// Entry point for iisnode (Azure App Service on Windows): iisnode loads this file with require(); the service itself
// is an ES module, so this shim starts `dke serve` through a dynamic import. PORT (a named pipe) is honoured.
process.argv = [process.argv[0], __filename, 'serve'];
import('./dist/cli.js').catch((error) => {
  console.error(JSON.stringify({ level: 'error', message: 'dke-service failed to start', error: String(error && error.message) }));
  process.exit(1);
});
