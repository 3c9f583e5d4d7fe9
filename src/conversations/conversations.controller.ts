import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { ConversationsService } from './conversations.service';
import { CreateConversationDto, UpdateConversationDto } from './dto/create-conversation.dto';
import { CreateConversationItemsDto, ItemIncludeQueryDto, ListConversationItemsQueryDto } from './dto/conversation-items.dto';
import { ConversationDto, ConversationItemDto, ConversationItemListDto, DeletedConversationDto } from './dto/conversation.dto';

@ApiTags('Conversations')
@ApiBearerAuth()
@Controller('v1/conversations')
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ operationId: 'createConversation', summary: 'Create a conversation, with up to 20 initial items' })
  @ApiOkResponse({ type: ConversationDto })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateConversationDto) {
    return this.conversations.create(principal, dto);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'retrieveConversation', summary: 'Retrieve a conversation' })
  @ApiOkResponse({ type: ConversationDto })
  retrieve(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.conversations.retrieve(principal, id);
  }

  @Post(':id')
  @HttpCode(200)
  @ApiOperation({ operationId: 'updateConversation', summary: "Replace a conversation's metadata" })
  @ApiOkResponse({ type: ConversationDto })
  update(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: UpdateConversationDto) {
    return this.conversations.update(principal, id, dto);
  }

  @Delete(':id')
  @ApiOperation({ operationId: 'deleteConversation', summary: 'Delete a conversation and its items' })
  @ApiOkResponse({ type: DeletedConversationDto })
  delete(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.conversations.delete(principal, id);
  }

  @Post(':id/items')
  @HttpCode(200)
  @ApiOperation({ operationId: 'createConversationItems', summary: 'Append up to 20 items to a conversation' })
  @ApiOkResponse({ type: ConversationItemListDto })
  createItems(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() dto: CreateConversationItemsDto,
    @Query() _query: ItemIncludeQueryDto,
  ) {
    return this.conversations.createItems(principal, id, dto);
  }

  @Get(':id/items')
  @ApiOperation({ operationId: 'listConversationItems', summary: "List a conversation's items, newest first" })
  @ApiOkResponse({ type: ConversationItemListDto })
  listItems(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: ListConversationItemsQueryDto) {
    return this.conversations.listItems(principal, id, query);
  }

  @Get(':id/items/:item_id')
  @ApiOperation({ operationId: 'retrieveConversationItem', summary: 'Retrieve one item of a conversation' })
  @ApiOkResponse({ type: ConversationItemDto })
  retrieveItem(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Param('item_id') itemId: string, @Query() _query: ItemIncludeQueryDto) {
    return this.conversations.retrieveItem(principal, id, itemId);
  }

  @Delete(':id/items/:item_id')
  @ApiOperation({ operationId: 'deleteConversationItem', summary: 'Delete one item of a conversation; answers with the conversation' })
  @ApiOkResponse({ type: ConversationDto })
  deleteItem(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Param('item_id') itemId: string) {
    return this.conversations.deleteItem(principal, id, itemId);
  }
}
