import type { JSONSchemaType } from 'ajv';
import type { ActorRuntime } from '../../domain/actors/actor-runtime';
import type { SagaQuery } from '../../domain/ports/saga-query.port';
import {
  sagaAggregate,
  sagaKey,
  sagaStatuses,
  type SagaStatus,
} from '../../domain/saga/saga.decider';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { commandContext } from '../command-context';
import { sendError, sendOk } from '../envelope';
import { requireScope } from '../middleware/require-scope';
import { validateParams, validateQuery } from '../middleware/validate';
import { pageNumSchema, pageSizeSchema } from '../schemas/common.schema';
import { positionJson } from './ledger-services';
import { sagaStatusUrl, sagaView } from './saga-view';

type ListQuery = { status?: SagaStatus; name?: string; page_num?: number; page_size?: number };
const listSchema: JSONSchemaType<ListQuery> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    status: { type: 'string', enum: [...sagaStatuses], nullable: true },
    name: { type: 'string', pattern: '^[a-z_]{1,64}$', nullable: true },
    page_num: { ...pageNumSchema, nullable: true },
    page_size: { ...pageSizeSchema, nullable: true },
  },
};
const sagaParamsSchema: JSONSchemaType<{ sagaName: string; sagaId: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['sagaName', 'sagaId'],
  properties: {
    sagaName: { type: 'string', pattern: '^[a-z_]{1,64}$' },
    sagaId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,160}$' },
  },
};

const DEFAULT_PAGE_SIZE = 20;

/** GET /v1/sagas (by status and name), GET /v1/sagas/{name}/{id}, POST .../retry. */
export const sagaRoutes =
  (deps: { runtime: ActorRuntime; sagas: SagaQuery; nowMs: () => number }): RouteRegistrar =>
  (kit: RouteKit) => {
    const list = validateQuery(listSchema);
    const params = validateParams(sagaParamsSchema);
    const readers = requireScope('sagas:read');

    kit.router.get('/sagas', readers, list, async (ctx) => {
      const {
        status = null,
        name = null,
        page_num: pageNum = 1,
        page_size: pageSize = DEFAULT_PAGE_SIZE,
      } = list.read(ctx);
      const { sagas, totalCount } = await deps.sagas.list({
        status,
        sagaName: name,
        pageNum,
        pageSize,
      });
      sendOk(ctx, {
        sagas: sagas.map(sagaView),
        page_num: pageNum,
        page_size: pageSize,
        total_count: totalCount,
        total_page: Math.ceil(totalCount / pageSize),
      });
    });

    kit.router.get('/sagas/:sagaName/:sagaId', readers, params, async (ctx) => {
      const { sagaName, sagaId } = params.read(ctx);
      const { state, position } = await deps.runtime.read(sagaAggregate, sagaKey(sagaName, sagaId));
      if (state.status === 'none')
        return sendError(ctx, 'saga_not_found', { data: { sagaName, sagaId } });
      sendOk(ctx, { saga: sagaView(state), position: positionJson(position) });
    });

    kit.router.post(
      '/sagas/:sagaName/:sagaId/retry',
      requireScope('sagas:write'),
      params,
      kit.jsonBody({ required: false }),
      kit.idempotency(),
      async (ctx) => {
        const { sagaName, sagaId } = params.read(ctx);
        const context = commandContext(ctx, deps.nowMs());
        const outcome = await deps.runtime.execute(
          sagaAggregate,
          sagaKey(sagaName, sagaId),
          { type: 'RetrySaga', data: { now: context.now } },
          context,
        );
        if (!outcome.ok) {
          const name =
            outcome.rejection === 'saga_not_found' ? 'saga_not_found' : 'saga_not_dead_lettered';
          return sendError(ctx, name, { data: { sagaName, sagaId, ...outcome.detail } });
        }
        ctx.set('Location', sagaStatusUrl(sagaName, sagaId));
        // The saga host drives it on the SagaRetried event; the status URL shows its progress.
        sendOk(
          ctx,
          {
            saga: outcome.state.status === 'none' ? null : sagaView(outcome.state),
            position: positionJson(outcome.position),
          },
          202,
        );
      },
    );
  };
