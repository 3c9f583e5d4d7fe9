import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '../common/principal';
import {
  CreateFileBatchDto,
  CreateVectorStoreDto,
  CreateVectorStoreFileDto,
  ListVectorStoreFilesQueryDto,
  ListVectorStoresQueryDto,
  SearchVectorStoreDto,
  UpdateVectorStoreDto,
  UpdateVectorStoreFileDto,
} from './dto/vector-store.dto';
import { VectorStoresService } from './vector-stores.service';

/** The Vector Stores API, OpenAI's paths and shapes (docs/file-search.md). */
@ApiTags('Vector stores')
@ApiBearerAuth()
@Controller('v1/vector_stores')
export class VectorStoresController {
  constructor(private readonly stores: VectorStoresService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ operationId: 'createVectorStore', summary: 'Create a vector store, optionally with files to ingest' })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateVectorStoreDto) {
    return this.stores.create(p, dto);
  }

  @Get()
  @ApiOperation({ operationId: 'listVectorStores', summary: 'List vector stores' })
  list(@CurrentPrincipal() p: Principal, @Query() q: ListVectorStoresQueryDto) {
    return this.stores.list(p, q);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'retrieveVectorStore', summary: 'Retrieve a vector store' })
  retrieve(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.stores.retrieve(p, id);
  }

  @Post(':id')
  @HttpCode(200)
  @ApiOperation({ operationId: 'updateVectorStore', summary: "Change a vector store's name, expiry or metadata" })
  update(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: UpdateVectorStoreDto) {
    return this.stores.update(p, id, dto);
  }

  @Delete(':id')
  @ApiOperation({ operationId: 'deleteVectorStore', summary: 'Delete a vector store and its chunks (the files stay)' })
  delete(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.stores.delete(p, id);
  }

  @Post(':id/search')
  @HttpCode(200)
  @ApiOperation({ operationId: 'searchVectorStore', summary: 'Search a vector store: keyword and vector ranking, fused' })
  search(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: SearchVectorStoreDto) {
    return this.stores.searchStore(p, id, dto);
  }

  @Post(':id/files')
  @HttpCode(200)
  @ApiOperation({ operationId: 'createVectorStoreFile', summary: 'Add a file to a vector store (ingested in the background)' })
  addFile(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: CreateVectorStoreFileDto) {
    return this.stores.addFile(p, id, dto);
  }

  @Get(':id/files')
  @ApiOperation({ operationId: 'listVectorStoreFiles', summary: "List a vector store's files" })
  listFiles(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Query() q: ListVectorStoreFilesQueryDto) {
    return this.stores.listFiles(p, id, q);
  }

  @Get(':id/files/:file_id')
  @ApiOperation({ operationId: 'retrieveVectorStoreFile', summary: 'Retrieve a vector store file and its ingestion status' })
  retrieveFile(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Param('file_id') fileId: string) {
    return this.stores.retrieveFile(p, id, fileId);
  }

  @Post(':id/files/:file_id')
  @HttpCode(200)
  @ApiOperation({ operationId: 'updateVectorStoreFileAttributes', summary: "Replace a vector store file's attributes" })
  updateFile(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Param('file_id') fileId: string, @Body() dto: UpdateVectorStoreFileDto) {
    return this.stores.updateFile(p, id, fileId, dto.attributes);
  }

  @Delete(':id/files/:file_id')
  @ApiOperation({ operationId: 'deleteVectorStoreFile', summary: 'Remove a file from a vector store (the file stays)' })
  removeFile(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Param('file_id') fileId: string) {
    return this.stores.removeFile(p, id, fileId);
  }

  @Get(':id/files/:file_id/content')
  @ApiOperation({ operationId: 'retrieveVectorStoreFileContent', summary: "A vector store file's parsed text, as chunked" })
  fileContent(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Param('file_id') fileId: string) {
    return this.stores.fileContent(p, id, fileId);
  }

  @Post(':id/file_batches')
  @HttpCode(200)
  @ApiOperation({ operationId: 'createVectorStoreFileBatch', summary: 'Add several files to a vector store at once' })
  createBatch(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: CreateFileBatchDto) {
    return this.stores.createBatch(p, id, dto);
  }

  @Get(':id/file_batches/:batch_id')
  @ApiOperation({ operationId: 'retrieveVectorStoreFileBatch', summary: 'Retrieve a file batch and its counts' })
  retrieveBatch(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Param('batch_id') batchId: string) {
    return this.stores.retrieveBatch(p, id, batchId);
  }

  @Post(':id/file_batches/:batch_id/cancel')
  @HttpCode(200)
  @ApiOperation({ operationId: 'cancelVectorStoreFileBatch', summary: "Cancel a file batch's files still being ingested" })
  cancelBatch(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Param('batch_id') batchId: string) {
    return this.stores.cancelBatch(p, id, batchId);
  }

  @Get(':id/file_batches/:batch_id/files')
  @ApiOperation({ operationId: 'listFilesInVectorStoreBatch', summary: "List a file batch's files" })
  listBatchFiles(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Param('batch_id') batchId: string, @Query() q: ListVectorStoreFilesQueryDto) {
    return this.stores.listBatchFiles(p, id, batchId, q);
  }
}
