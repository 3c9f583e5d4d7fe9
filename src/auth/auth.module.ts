import { Module } from '@nestjs/common';
import { StoreModule } from '../store/store.module';
import { AuthGuard } from './auth.guard';
import { Authenticator } from './authenticator';

@Module({ imports: [StoreModule], providers: [Authenticator, AuthGuard], exports: [Authenticator, AuthGuard] })
export class AuthModule {}
