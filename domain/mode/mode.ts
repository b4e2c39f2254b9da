/**
 * Test and live modes, as Stripe has them. Every client (its API key and its OAuth tokens) is in
 * one mode, and so is every payment (with its refunds) and webhook endpoint it creates. Test
 * objects move only sandbox money: a test key reaches only the sandbox channel, a live key never
 * does, and neither sees the other mode's objects.
 */
export const modes = ['test', 'live'] as const;
export type Mode = (typeof modes)[number];

export const isMode = (value: unknown): value is Mode => modes.some((mode) => mode === value);

/** The one mode that may use a channel: test for the sandbox, live for every real channel. */
export const modeOfChannel = (channel: string): Mode => (channel === 'sandbox' ? 'test' : 'live');

/**
 * The mode of a payment, also one recorded before modes existed: that one reads as its
 * channel's (a sandbox payment moved no real money, so it is `test`; any other is `live`, the
 * mode its merchant's client keeps).
 */
export const modeOfRecorded = (mode: Mode | undefined, channel: string): Mode =>
  mode ?? modeOfChannel(channel);

type ChannelModeRefusal =
  'sandbox_disabled' | 'live_mode_sandbox_refused' | 'test_mode_channel_refused';

/** Why a client in `mode` may not use `channel` (null: it may). */
export const channelModeRefusal = (
  mode: Mode,
  channel: string,
  sandboxEnabled: boolean,
): ChannelModeRefusal | null => {
  if (mode === 'live') return channel === 'sandbox' ? 'live_mode_sandbox_refused' : null;
  if (channel !== 'sandbox') return 'test_mode_channel_refused';
  return sandboxEnabled ? null : 'sandbox_disabled';
};
