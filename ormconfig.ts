import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/config/app-config';
import { dataSourceOptions } from './src/data-source';

// The TypeORM CLI's data source (`npm run migration:run`): the same options as the app.
const config = loadConfig();
export default new DataSource(dataSourceOptions({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }));
