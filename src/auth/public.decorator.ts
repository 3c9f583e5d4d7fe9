import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'rg:public';

/** A route that needs no credential (health probes, metrics scrapes). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
