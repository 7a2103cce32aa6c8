# A kafka_topic of the mongey/kafka provider whose topic is named <domain>.<product>.<stream>
# becomes the stream above without being recreated: its partitions, replication factor,
# retention.ms and cleanup.policy go to their attributes, every other config to config. Write
# the stream as the topic is, put it in place of the kafka_topic block, and plan: Terraform
# shows the move and no changes. Any other source, or a topic named otherwise, is an error.
moved {
  from = kafka_topic.order_events
  to   = datamesh_stream.order_events
}
