/** The configuration, as the front ends (CLI, `dke dev`, the HEALTHCHECK) reach it: read and checked once, in config/. */
export { debugOutputWanted, loadConfig, loadConfigWith, probeTarget, type Config, type RawSettings } from '../config/config.js';
export { adminClientSettings, type AdminClientSettings } from '../config/admin-client.js';
