"""QuckChat beside the servers a user would pick instead, on the same machine in one run.

`python -m bench.peers` installs or builds each peer into ~/.cache/quckchat/peers (Synapse in a
virtualenv of its own, Dendrite and Centrifugo from their Go modules), runs it on the test bed's
PostgreSQL where it needs a database, and drives the same workload against QuckChat and each
peer in turn, from the same lean load generator (`bench.peers.chat`, `bench.ws_load`):

- chat: 200 users in 20 rooms of 10 and one room of all 200; senders post at an offered rate,
  and every member receives on its push channel (QuckChat's WebSocket through the gateway,
  Matrix `/sync`, Centrifugo's WebSocket);
- fan-out: 2,000 subscribers of one channel, QuckChat's realtime against Centrifugo.

It prints one table, each peer's figure beside ours and as a ratio to it.
"""
