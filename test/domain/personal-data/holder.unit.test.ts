import {
  erasedHolder,
  maskHolder,
  parseSealedHolder,
  encodeSealedHolder,
} from '../../../domain/personal-data/holder';

describe('holder masking (seed 004 rules)', () => {
  it('keeps the first 6 and last 4 of a national ID', () => {
    expect(maskHolder({ nationalId: '110101199003071234' })).toEqual({
      nationalId: '110101********1234',
    });
  });

  it('keeps the first 3 and last 4 of a phone number', () => {
    expect(maskHolder({ phone: '13812345678' })).toEqual({ phone: '138****5678' });
  });

  it('keeps the first 4 and last 4 of a bank card', () => {
    expect(maskHolder({ bankCard: '6222020200112233445' })).toEqual({
      bankCard: '6222***********3445',
    });
  });

  it("keeps a name's first character and stars the others (李*, 张**)", () => {
    expect(maskHolder({ name: '李四' })).toEqual({ name: '李*' });
    expect(maskHolder({ name: '张三丰' })).toEqual({ name: '张**' });
    expect(maskHolder({ name: 'Ann' })).toEqual({ name: 'A**' });
    expect(maskHolder({ name: 'X' })).toEqual({ name: 'X*' });
  });

  it("keeps an email's first character and its domain", () => {
    expect(maskHolder({ email: 'alice.smith@example.com' })).toEqual({
      email: 'a***@example.com',
    });
    expect(maskHolder({ email: 'no-at-sign' })).toEqual({ email: '***' });
  });

  it('stars a value too short to keep both ends entirely', () => {
    expect(maskHolder({ phone: '1234567' })).toEqual({ phone: '*******' });
  });

  it('shows every field of an erased holder as "erased"', () => {
    const holder = { subjectId: 's1', fields: ['name' as const, 'phone' as const], sealed: 'x' };
    expect(erasedHolder(holder)).toEqual({ name: 'erased', phone: 'erased' });
  });

  it('reads back what it encodes, and refuses an unknown field name', () => {
    const holder = { subjectId: 's1', fields: ['email' as const], sealed: 'v1.a.b.c' };
    expect(parseSealedHolder(encodeSealedHolder(holder))).toEqual(holder);
    expect(() => parseSealedHolder({ subjectId: 's1', fields: ['ssn'], sealed: 'x' })).toThrow(
      /unknown field 'ssn'/,
    );
  });
});
