import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { parseEnvironment } from './src/config/environment';
import { dataSourceOptions } from './src/database/data-source';

// The TypeORM CLI's data source (`npm run migration:run`): the same options as the app.
const env = parseEnvironment(process.env);
export default new DataSource(dataSourceOptions({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR }));
