// The Kafka library: what the kafka input and output share (connection options, their schema, a kafkajs client
// logging to the component), and the partition assignments the kafka input publishes for the window aggregate.
export { connectionSchema, createKafka, withTimeout, type KafkaConnectionOptions, type KafkaSaslOptions } from './client.js';
export { PARTITION_ASSIGNMENTS, PartitionAssignments, partitionAssignments } from './assignments.js';
