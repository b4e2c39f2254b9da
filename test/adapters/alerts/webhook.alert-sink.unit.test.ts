import { alertBody, alertText } from '../../../adapters/alerts/webhook.alert-sink';

describe('the alert webhook message', () => {
  it('names the count, the window and the subjects, the ones past the tenth as others', () => {
    const subjects = new Map(Array.from({ length: 10 }, (_, index) => [`node-${index}`, 1]));
    expect(alertText('ledger-eu', 'node_silent', 12, subjects, 60_000)).toBe(
      `[ledger-eu] 12 nodes gone silent in 60 s (${[...subjects.keys()].map((node) => `${node}: 1`).join(', ')}, others: 2)`,
    );
  });

  it('is Slack {text} or WeCom {msgtype: text, text.content}', () => {
    expect(JSON.parse(alertBody('slack', 'hello'))).toEqual({ text: 'hello' });
    expect(JSON.parse(alertBody('wecom', 'hello'))).toEqual({
      msgtype: 'text',
      text: { content: 'hello' },
    });
  });
});
