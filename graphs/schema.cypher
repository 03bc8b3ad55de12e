// agentroute knowledge-graph schema for Neo4j 5 (what Neo4jStore creates on connect; safe to re-run).
//
// Nodes (every node is keyed by its `id` property within its label)
//   (:Query  {id, text, dataset?, split?, gold?: [string]})   a question; gold is never read by routers
//   (:Entity {id, text?, kind?})                              id = normalised mention ("eiffel tower");
//                                                             kind = span | number | date | quoted | word
//   (:Agent  {id, description?, skills?: [string], cost_per_call?})   id = the agent's name
//
// Relationships (endpoint labels are fixed; every relationship carries `kind`, "" when it has none,
// and is identified by (type, start id, end id, kind) - MERGE on that, SET the rest)
//   (:Query)-[:MENTIONS]->(:Entity)                     the question mentions the entity
//   (:Entity)-[:RELATED {kind, ...}]->(:Entity)        e.g. kind "co_mention", "capital_of"
//   (:Agent)-[:COVERS]->(:Entity)                       the agent is good at questions about the entity
//   (:Query)-[:SIMILAR]->(:Query)                       embedding nearest neighbours
//   (:Query)-[:PERFORMED {score?, cost?, pred?, latency_s?, steps?}]->(:Agent)
//                                                       how the agent did on that question
//
// Properties hold only strings, numbers, booleans and homogeneous lists of them; null means "absent".

CREATE CONSTRAINT agentroute_query_id IF NOT EXISTS FOR (n:Query) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT agentroute_entity_id IF NOT EXISTS FOR (n:Entity) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT agentroute_agent_id IF NOT EXISTS FOR (n:Agent) REQUIRE n.id IS UNIQUE;

// Optional (Neo4j 5.13+): a vector index over query embeddings stored as `vec`, created by
// Neo4jStore.ensure_vector_index(dim) with the embedder's dimension (384 below is only an example).
// CREATE VECTOR INDEX agentroute_query_vec IF NOT EXISTS FOR (n:Query) ON (n.vec)
//   OPTIONS {indexConfig: {`vector.dimensions`: 384, `vector.similarity_function`: 'cosine'}};
//
// FalkorDB and Memgraph equivalents (see agentroute/kg/stores/cypher_dialect.py):
//   FalkorDB:  CREATE INDEX FOR (n:Query) ON (n.id)     (no unique constraints over Bolt)
//   Memgraph:  CREATE INDEX ON :Query(id); CREATE CONSTRAINT ON (n:Query) ASSERT n.id IS UNIQUE;
