#!/usr/bin/env nextflow
// scgrn as a Nextflow (DSL2) workflow: one process per tool, scattered over cell shards for
// tokenize and embed, gathered by concatenating the GENE streams, then graphify and score.
// The commands are those of pipelines/Makefile (a test checks that they agree).
//
//   nextflow run pipelines/main.nf -profile local --data counts/ --vocab genes.txt \
//     --model model.safetensors --prior prior.tsv --candidates tfs.txt --candidate_flag --tfs --shards 4
//
// The tools must be on PATH (or in the container of the chosen profile).

nextflow.enable.dsl = 2

params.data           = null
params.vocab          = null
params.model          = null
params.prior          = null
params.train          = null
params.valid          = null
params.candidates     = null
params.candidate_flag = '--pairs'
params.truth          = null
params.shards         = 2
params.outdir         = 'results'
params.tokenize_args  = ''
params.embed_args     = ''
params.graphify_args  = ''
params.score_args     = ''

process TOKENIZE {
    tag "shard ${shard}/${params.shards}"
    input:
    tuple val(shard), path(data), path(vocab)
    output:
    tuple val(shard), path("cells.${shard}.sgrf"), emit: cells
    path "versions.tokenize.txt", emit: versions
    script:
    def out = "cells.${shard}.sgrf"
    """
    tokenize ${data} --vocab ${vocab} ${params.tokenize_args} --shard ${shard}/${params.shards} -o ${out}
    printf 'tokenize\\t%s\\n' "\$(tokenize --version)" > versions.tokenize.txt
    """
}

process EMBED {
    tag "shard ${shard}"
    input:
    tuple val(shard), path(cells), path(model)
    output:
    tuple val(shard), path("genes.${shard}.sgrf"), emit: genes
    path "versions.embed.txt", emit: versions
    script:
    def out = "genes.${shard}.sgrf"
    """
    embed ${cells} --model ${model} ${params.embed_args} -o ${out}
    printf 'embed\\t%s\\n' "\$(embed --version)" > versions.embed.txt
    """
}

process GATHER {
    input:
    path shards
    output:
    path "genes.sgrf", emit: genes
    path "versions.frames.txt", emit: versions
    script:
    def genes = shards.sort { it.name.tokenize('.')[1] as int }.join(' ')
    def out = "genes.sgrf"
    """
    frames cat ${genes} -o ${out}
    printf 'frames\\t%s\\n' "\$(frames --version)" > versions.frames.txt
    """
}

process GRAPHIFY {
    input:
    path genes
    path prior
    path train
    path valid
    output:
    path "model.sgrf", emit: model
    path "versions.graphify.txt", emit: versions
    script:
    def train_opt = train.name != 'NO_TRAIN' ? "--train ${train}" : ''
    def valid_opt = valid.name != 'NO_VALID' ? "--valid ${valid}" : ''
    def out = "model.sgrf"
    """
    graphify ${genes} --prior ${prior} ${train_opt} ${valid_opt} ${params.graphify_args} -o ${out}
    printf 'graphify\\t%s\\n' "\$(graphify --version)" > versions.graphify.txt
    """
}

process SCORE {
    publishDir params.outdir, mode: 'copy'
    input:
    path model
    path candidates
    path truth
    output:
    path "edges.tsv", emit: edges
    path "metrics.json", optional: true, emit: metrics
    path "versions.score.txt", emit: versions
    script:
    def truth_opt = truth.name != 'NO_TRUTH' ? "--truth ${truth} --metrics metrics.json" : ''
    def out = "edges.tsv"
    """
    score ${model} ${params.candidate_flag} ${candidates} ${truth_opt} ${params.score_args} -o ${out}
    printf 'score\\t%s\\n' "\$(score --version)" > versions.score.txt
    """
}

def optionalFile(value, placeholder) {
    value ? file(value, checkIfExists: true) : file("${workflow.projectDir}/${placeholder}")
}

workflow {
    ['data', 'vocab', 'model', 'prior', 'candidates'].each { name ->
        if (!params[name]) error "missing --${name}"
    }
    shards = Channel.of(1..(params.shards as int))
    tokenized = TOKENIZE(shards.map { i -> tuple(i, file(params.data), file(params.vocab)) })
    embedded = EMBED(tokenized.cells.map { shard, cells -> tuple(shard, cells, file(params.model)) })
    gathered = GATHER(embedded.genes.map { it[1] }.collect())
    trained = GRAPHIFY(gathered.genes, file(params.prior),
                       optionalFile(params.train, 'NO_TRAIN'), optionalFile(params.valid, 'NO_VALID'))
    scored = SCORE(trained.model, file(params.candidates), optionalFile(params.truth, 'NO_TRUTH'))
    tokenized.versions.mix(embedded.versions, gathered.versions, trained.versions, scored.versions)
        .unique().collectFile(name: 'versions.txt', storeDir: params.outdir, sort: true)
}
