import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';

// Query strings arrive as text: numbers are parsed here, and only here.
export const toInt = ({ value }: { value: unknown }): unknown => (typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value);

export class PageQueryDto {
  /** An object id: list the objects that come after it in this order. */
  @IsOptional()
  @IsString()
  after?: string;

  /** How many objects to return, 1 to 100 (default 20). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  /** `asc` or `desc` (default `desc`). */
  @IsOptional()
  @IsIn(['asc', 'desc'])
  order?: 'asc' | 'desc';
}
