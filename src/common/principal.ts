import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** Who is making a request. Every stored row is owned by a principal's tenant. */
export interface Principal {
  /** The tenant that owns what this principal creates. */
  owner: string;
  /** A name for logs (never a secret). */
  name: string;
}

export const ANONYMOUS: Principal = { owner: 'default', name: 'anonymous' };

export type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

/** The principal that the auth guard attached to the request. */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Principal => ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal ?? ANONYMOUS,
);
