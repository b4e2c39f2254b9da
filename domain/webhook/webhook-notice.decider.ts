import { versionedEventCodec, type Aggregate } from '../aggregate';
import { assert, AssertionError } from '../assert';
import { accept, reject, type Decision } from '../decision';
import { oneOfField, optionalField, stringField } from '../json-fields';
import { modes, type Mode } from '../mode/mode';

/**
 * Stream webhookendpoint-<endpointId>: the notices about a merchant's webhook endpoint that
 * belong in the log (and are themselves delivered as webhooks to the merchant's other
 * endpoints). Today one: the endpoint was disabled after failing since `failingSince`. A failing
 * streak is noticed once, so a retry after a crash appends nothing twice.
 */
type WebhookEndpointDisabled = {
  endpointId: string;
  merchantId: string;
  /** The endpoint's mode; absent in notices written before modes: live. */
  mode?: Mode;
  url: string;
  failingSince: string;
  disabledAt: string;
};

type WebhookNoticeCommand = {
  type: 'DisableWebhookEndpoint';
  data: Omit<WebhookEndpointDisabled, 'disabledAt'> & { now: string };
};
type WebhookNoticeEvent = { type: 'WebhookEndpointDisabled'; data: WebhookEndpointDisabled };
/** The notices as stored: version 1, every field checked on read. */
const webhookNoticeEventCodec = versionedEventCodec<WebhookNoticeEvent>({
  upcasters: [],
  encode: (event) => event.data,
  parse: (type, data) => {
    if (type !== 'WebhookEndpointDisabled')
      throw new AssertionError(`webhookendpoint: unknown event type ${type}`);
    return {
      type,
      data: {
        endpointId: stringField(data, 'endpointId'),
        merchantId: stringField(data, 'merchantId'),
        ...optionalField(data, 'mode', (object, name) => oneOfField(object, name, modes)),
        url: stringField(data, 'url'),
        failingSince: stringField(data, 'failingSince'),
        disabledAt: stringField(data, 'disabledAt'),
      },
    };
  },
});

type WebhookNoticeState = { noticedFailingSince: string | null };
type WebhookNoticeRejection = 'failing_streak_already_noticed';

const decide = (
  command: WebhookNoticeCommand,
  state: WebhookNoticeState,
): Decision<WebhookNoticeEvent, WebhookNoticeRejection> => {
  const { now, ...notice } = command.data;
  if (state.noticedFailingSince === notice.failingSince)
    return reject('failing_streak_already_noticed');
  return accept({ type: 'WebhookEndpointDisabled', data: { ...notice, disabledAt: now } });
};

const evolve = (state: WebhookNoticeState, event: WebhookNoticeEvent): WebhookNoticeState => {
  assert(
    state.noticedFailingSince !== event.data.failingSince,
    'WebhookEndpointDisabled: failing streak noticed twice',
  );
  return { noticedFailingSince: event.data.failingSince };
};

export const webhookNoticeAggregate: Aggregate<
  WebhookNoticeCommand,
  WebhookNoticeEvent,
  WebhookNoticeState,
  WebhookNoticeRejection
> = {
  category: 'webhookendpoint',
  initialState: { noticedFailingSince: null },
  decide,
  evolve,
  eventCodec: webhookNoticeEventCodec,
};
