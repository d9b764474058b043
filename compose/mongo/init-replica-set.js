// Makes the `mongo` service a replica set of one (rs0), as change streams and transactions need, and waits until
// it is primary. Idempotent: run by the one-shot `mongo-init` service of docker-compose.prod.yml on every start.
//   mongosh --host mongo:27017 --quiet /init/init-replica-set.js
const config = { _id: 'rs0', members: [{ _id: 0, host: 'mongo:27017' }] };

try {
  const status = rs.status();
  print(`replica set ${status.set} already initiated`);
} catch (e) {
  if (e.codeName !== 'NotYetInitialized') {
    throw e;
  }
  print('initiating replica set rs0');
  rs.initiate(config);
}

for (let i = 0; i < 60; i++) {
  if (db.hello().isWritablePrimary) {
    print('replica set rs0 has a primary');
    quit(0);
  }
  sleep(1000);
}
print('replica set rs0 has no primary after 60s');
quit(1);
