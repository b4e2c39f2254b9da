import { channelModeRefusal, modeOfRecorded } from '../../../domain/mode/mode';

describe('modes: which channel a mode may use', () => {
  it('lets a test key use the sandbox only, and only while the sandbox is on', () => {
    expect(channelModeRefusal('test', 'sandbox', true)).toBeNull();
    expect(channelModeRefusal('test', 'sandbox', false)).toBe('sandbox_disabled');
    for (const channel of ['wechat', 'alipay', 'stripe'])
      expect(channelModeRefusal('test', channel, true)).toBe('test_mode_channel_refused');
  });

  it('never lets a live key use the sandbox, switched on or off', () => {
    expect(channelModeRefusal('live', 'sandbox', true)).toBe('live_mode_sandbox_refused');
    expect(channelModeRefusal('live', 'sandbox', false)).toBe('live_mode_sandbox_refused');
    for (const channel of ['wechat', 'alipay', 'stripe'])
      expect(channelModeRefusal('live', channel, false)).toBeNull();
  });

  it('reads a payment recorded before modes as the mode of its channel', () => {
    expect(modeOfRecorded(undefined, 'sandbox')).toBe('test');
    expect(modeOfRecorded(undefined, 'wechat')).toBe('live');
    expect(modeOfRecorded('live', 'sandbox')).toBe('live');
  });
});
