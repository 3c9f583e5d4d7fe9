import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ANONYMOUS, AuthenticatedRequest } from '../common/principal';
import { Authenticator } from './authenticator';
import { IS_PUBLIC } from './public.decorator';

/** Every route needs a credential when authentication is on, except those marked @Public(). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly authenticator: Authenticator,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const open = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (open || !this.authenticator.required) {
      request.principal = ANONYMOUS;
      return true;
    }
    request.principal = await this.authenticator.authenticate(request.headers.authorization, request.ip);
    return true;
  }
}
