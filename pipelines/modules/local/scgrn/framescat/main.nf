// GENE streams of the shards → one GENE stream, in the order given (frames cat checks each).
process SCGRN_FRAMESCAT {
    tag "${meta.id}"
    label 'process_single'

    container 'scgrn:0.1.0'

    input:
    tuple val(meta), path(genes, stageAs: 'shards/*')  // the shards' streams, in shard order

    output:
    tuple val(meta), path("*.genes.sgrf"), emit: genes
    path "versions.yml"                  , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def prefix = task.ext.prefix ?: "${meta.id}"
    def out = "${prefix}.genes.sgrf"
    """
    frames cat ${genes} -t ${task.cpus} -o ${out}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        scgrn: \$(frames --version)
    END_VERSIONS
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.genes.sgrf

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        scgrn: \$(frames --version)
    END_VERSIONS
    """
}
