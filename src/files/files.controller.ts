import { Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { CreateFileDto, DeletedFileDto, FileDto, FileListDto } from './dto/file.dto';
import { ListFilesQueryDto } from './dto/list-files.dto';
import { FilesHttp } from './files-http';
import { FilesService } from './files.service';

@ApiTags('Files')
@ApiBearerAuth()
@Controller('v1/files')
export class FilesController {
  constructor(
    private readonly http: FilesHttp,
    private readonly files: FilesService,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ operationId: 'createFile', summary: 'Upload a file (multipart/form-data: `file` and `purpose`)' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: CreateFileDto })
  @ApiOkResponse({ type: FileDto })
  create(@CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.http.upload(principal, request, reply);
  }

  @Get()
  @ApiOperation({ operationId: 'listFiles', summary: 'List your files, newest first' })
  @ApiOkResponse({ type: FileListDto })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListFilesQueryDto) {
    return this.files.list(principal, query);
  }

  @Get(':file_id')
  @ApiOperation({ operationId: 'retrieveFile', summary: 'Retrieve a file' })
  @ApiOkResponse({ type: FileDto })
  retrieve(@CurrentPrincipal() principal: Principal, @Param('file_id') id: string) {
    return this.files.retrieve(principal, id);
  }

  @Get(':file_id/content')
  @ApiOperation({ operationId: 'downloadFile', summary: "A file's content, as uploaded" })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ description: 'The bytes, with the content type of the filename', schema: { type: 'string', format: 'binary' } })
  content(@CurrentPrincipal() principal: Principal, @Param('file_id') id: string, @Res() reply: FastifyReply): Promise<void> {
    return this.http.content(principal, id, reply);
  }

  @Delete(':file_id')
  @ApiOperation({ operationId: 'deleteFile', summary: 'Delete a file and its content' })
  @ApiOkResponse({ type: DeletedFileDto })
  delete(@CurrentPrincipal() principal: Principal, @Param('file_id') id: string) {
    return this.files.delete(principal, id);
  }
}
