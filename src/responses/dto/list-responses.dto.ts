import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Min } from 'class-validator';
import { PageQueryDto, toInt } from '../../common/dto/page-query.dto';

export class ListResponsesQueryDto extends PageQueryDto {
  /** Only responses of this model. */
  @IsOptional()
  @IsString()
  model?: string;
}

export class ListInputItemsQueryDto extends PageQueryDto {
  /** An item id: list the items that come before it in this order. */
  @IsOptional()
  @IsString()
  before?: string;

  @IsOptional()
  include?: string | string[];
}

const toBool = ({ value }: { value: unknown }): unknown => (value === 'true' ? true : value === 'false' ? false : value);

export class RetrieveResponseQueryDto {
  /** Stream the response's events (background responses created with `stream: true`). */
  @IsOptional()
  @Transform(toBool)
  @IsIn([true, false])
  stream?: boolean;

  /** With `stream`: replay only events after this sequence number. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(-1)
  starting_after?: number;

  @IsOptional()
  @Transform(toBool)
  @IsIn([true, false])
  include_obfuscation?: boolean;

  /** Sent by the SDK as `include[]`. */
  @IsOptional()
  include?: string | string[];

  @IsOptional()
  'include[]'?: string | string[];
}
