import { Module } from '@nestjs/common';
import { AuthGuard } from './auth.guard';
import { Authenticator } from './authenticator';
import { AuthPersistenceModule } from './persistence/auth-persistence.module';

@Module({ imports: [AuthPersistenceModule], providers: [Authenticator, AuthGuard], exports: [Authenticator, AuthGuard] })
export class AuthModule {}
