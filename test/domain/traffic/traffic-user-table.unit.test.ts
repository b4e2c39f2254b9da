import { TrafficUserTable } from '../../../domain/traffic/traffic-user-table';
import { trafficUserHashOf } from '../../../domain/traffic/traffic.model';

const idOf = (index: number): string => `user-${index}`;

describe('TrafficUserTable: users by id and hash', () => {
  it('finds each user it holds and no other, past growing from its first size', () => {
    const table = new TrafficUserTable(4);
    for (let index = 0; index < 3_000; index += 1)
      expect(table.add(idOf(index), trafficUserHashOf(idOf(index)))).toBe(index);
    for (let index = 0; index < 3_000; index += 1)
      expect(table.find(idOf(index), trafficUserHashOf(idOf(index)))).toBe(index);
    expect(table.find('user-3000', trafficUserHashOf('user-3000'))).toBe(-1);
    expect(table.entryCount).toBe(3_000);
  });

  it('compares ids on an equal hash', () => {
    const [one, other] = ['u-145233', 'u-1988000'];
    const userHash = trafficUserHashOf(one);
    expect(trafficUserHashOf(other)).toBe(userHash);
    const table = new TrafficUserTable(0);
    const first = table.add(one, userHash);
    expect(table.find(other, userHash)).toBe(-1);
    const second = table.add(other, userHash);
    expect([table.find(one, userHash), table.find(other, userHash)]).toEqual([first, second]);
  });

  it('skips a retired entry; a later add of the id is a new live entry', () => {
    const table = new TrafficUserTable(0);
    const userHash = trafficUserHashOf('alice');
    const retired = table.add('alice', userHash);
    table.retire(retired);
    expect(table.find('alice', userHash)).toBe(-1);
    expect(table.isLive(retired)).toBe(false);
    const renewed = table.add('alice', userHash);
    expect(table.find('alice', userHash)).toBe(renewed);
    expect(table.isLive(renewed)).toBe(true);
    expect(() => table.retire(retired)).toThrow(/retired twice/);
  });
});
