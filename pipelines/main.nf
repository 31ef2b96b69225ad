#!/usr/bin/env nextflow
// scgrn as a Nextflow (DSL2) pipeline: tokenize and embed per cell shard, the GENE streams
// concatenated in shard order, then graphify and score. One module per tool
// (modules/local/scgrn/*), whose commands are those of pipelines/Makefile and the Snakefile
// (pipelines/lint.py and Tests/PipelineTests check this).
//
//   nextflow run pipelines/main.nf -profile docker --data counts/ --vocab genes.txt \
//     --model model.safetensors --prior prior.tsv --tfs tfs.txt --shards 4 --outdir results
//   nextflow run pipelines/main.nf -profile test,docker      # the bundled example
//
// Parameters: nextflow_schema.json (or --help). Per-tool options: --tokenize_args etc., or
// ext.args in a config of your own (conf/modules.config shows where).

nextflow.enable.dsl = 2

include { validateParameters; paramsSummaryLog } from 'plugin/nf-schema'

include { SCGRN_TOKENIZE  } from './modules/local/scgrn/tokenize/main'
include { SCGRN_EMBED     } from './modules/local/scgrn/embed/main'
include { SCGRN_FRAMESCAT } from './modules/local/scgrn/framescat/main'
include { SCGRN_GRAPHIFY  } from './modules/local/scgrn/graphify/main'
include { SCGRN_SCORE     } from './modules/local/scgrn/score/main'

// An optional file parameter as a process input: the file, or [] when not given.
def optionalFile(value) {
    value ? file(value, checkIfExists: true) : []
}

workflow {
    validateParameters()
    log.info paramsSummaryLog(workflow)
    if (!params.pairs == !params.tfs) {
        error "give the candidates to score as exactly one of --pairs <pair TSV> or --tfs <TF list>"
    }

    def shards = params.shards as int
    def meta = [id: params.id]

    // Scatter: one tokenize and one embed task per contiguous block of cells.
    ch_counts = Channel.of(1..shards)
        .map { i -> [meta + [shard: i, shards: shards], file(params.data, checkIfExists: true)] }
    SCGRN_TOKENIZE(ch_counts, file(params.vocab, checkIfExists: true))
    SCGRN_EMBED(SCGRN_TOKENIZE.out.cells, file(params.model, checkIfExists: true))

    // Gather: the shards' GENE streams of each dataset, in shard order.
    ch_gene_shards = SCGRN_EMBED.out.genes
        .map { m, genes -> [m.subMap('id'), m.shard, genes] }
        .groupTuple(size: shards)
        .map { m, indices, genes -> [m, [indices, genes].transpose().sort { it[0] }.collect { it[1] }] }
    SCGRN_FRAMESCAT(ch_gene_shards)

    SCGRN_GRAPHIFY(
        SCGRN_FRAMESCAT.out.genes,
        file(params.prior, checkIfExists: true),
        optionalFile(params.train),
        optionalFile(params.valid)
    )
    SCGRN_SCORE(
        SCGRN_GRAPHIFY.out.model,
        optionalFile(params.pairs),
        optionalFile(params.tfs),
        optionalFile(params.truth)
    )

    // Every task's versions.yml, merged (each process once: the shards' are the same) into
    // pipeline_info/.
    SCGRN_TOKENIZE.out.versions
        .mix(SCGRN_EMBED.out.versions, SCGRN_FRAMESCAT.out.versions,
             SCGRN_GRAPHIFY.out.versions, SCGRN_SCORE.out.versions)
        .map { versions -> versions.text }
        .unique()
        .collectFile(name: 'software_versions.yml', storeDir: "${params.outdir}/pipeline_info",
                     sort: true, newLine: false)
}
