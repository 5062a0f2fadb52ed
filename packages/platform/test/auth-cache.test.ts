import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OPERATOR } from '../src/index.js';
import { testPlatform } from './helpers.js';

describe('authentication remembers keys it found, and forgets a key the moment it is replaced', () => {
  test('a replaced partner key is refused at once, even after it was remembered; the new key works', async () => {
    await using t = await testPlatform();
    const { id, key: old } = await t.platform.partners.create(OPERATOR, { name: 'alice' });
    assert.deepEqual(await t.platform.authenticate(old), { kind: 'partner', partnerId: id });
    assert.deepEqual(await t.platform.authenticate(old), { kind: 'partner', partnerId: id });
    const { key: fresh } = await t.platform.partners.rotateKey(OPERATOR, id);
    assert.equal(await t.platform.authenticate(old), undefined);
    assert.deepEqual(await t.platform.authenticate(fresh), { kind: 'partner', partnerId: id });
  });

  test('a lookup that began before the key was replaced does not bring the old key back', async () => {
    await using t = await testPlatform();
    const { id, key: old } = await t.platform.partners.create(OPERATOR, { name: 'alice' });
    const [during] = await Promise.all([t.platform.authenticate(old), t.platform.partners.rotateKey(OPERATOR, id)]);
    assert.ok(during === undefined || during.kind === 'partner');
    assert.equal(await t.platform.authenticate(old), undefined);
  });

  test('replacing the operator key with ensureOperatorKey refuses the old one at once', async () => {
    await using t = await testPlatform();
    await t.platform.ensureOperatorKey('operator-key-one-0123456789');
    assert.deepEqual(await t.platform.authenticate('operator-key-one-0123456789'), { kind: 'operator' });
    await t.platform.ensureOperatorKey('operator-key-two-0123456789');
    assert.equal(await t.platform.authenticate('operator-key-one-0123456789'), undefined);
    assert.deepEqual(await t.platform.authenticate('operator-key-two-0123456789'), { kind: 'operator' });
  });

  test('an unknown key is not remembered: once it becomes a key, it works', async () => {
    await using t = await testPlatform();
    assert.equal(await t.platform.authenticate('operator-key-later-0123456789'), undefined);
    await t.platform.ensureOperatorKey('operator-key-later-0123456789');
    assert.deepEqual(await t.platform.authenticate('operator-key-later-0123456789'), { kind: 'operator' });
  });

  test('a remembered actor cannot be changed by a caller', async () => {
    await using t = await testPlatform();
    const { key } = await t.platform.partners.create(OPERATOR, { name: 'alice' });
    const actor = (await t.platform.authenticate(key)) as { partnerId: string };
    assert.throws(() => {
      actor.partnerId = 'pt_someone_else';
    }, TypeError);
  });

  test('replacing a key appends partner.key-rotated, which the partner sees', async () => {
    await using t = await testPlatform();
    const { id } = await t.platform.partners.create(OPERATOR, { name: 'alice' });
    await t.platform.partners.rotateKey(OPERATOR, id);
    const { items } = await t.platform.events.list({ kind: 'partner', partnerId: id });
    assert.deepEqual(
      items.map((e) => [e.type, e.subject]),
      [
        ['partner.created', id],
        ['partner.key-rotated', id],
      ],
    );
  });
});
