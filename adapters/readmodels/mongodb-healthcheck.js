// The health check of docker-compose.yml's mongodb service, run by mongosh inside its container.
// It exits 0 only while a member of the replica set is PRIMARY, so that services depending on
// `service_healthy` start once transactions can commit. On the first start it initiates the
// single-node set (named for the compose service, which resolves inside the compose network) and
// exits 1 until the election is over. quit() is called outside try blocks, so that an exit
// cannot be caught. Tested by test/adapters/read-model-store.mongodb-compose.unit.test.ts.
let primary = false;
try {
  primary = rs.status().members.some((member) => member.stateStr === 'PRIMARY');
} catch (error) {
  // NotYetInitialized (94): the first start. Any other error only makes this check fail.
  if (error.code === 94) {
    rs.initiate({ _id: 'rs0', members: [{ _id: 0, host: 'mongodb:27017' }] });
  }
}
quit(primary ? 0 : 1);
