// Counts → CELL frames for one shard of the cells (tokenize --shard i/n).
process SCGRN_TOKENIZE {
    tag "${meta.id} ${meta.shard}/${meta.shards}"
    label 'process_low'

    container 'scgrn:0.1.0'

    input:
    tuple val(meta), path(data)   // meta: [id, shard, shards]; data: 10x folder, .mtx[.gz] or CSV/TSV[.gz]
    path vocab                    // the model's genes, one per line

    output:
    tuple val(meta), path("*.cells.sgrf"), emit: cells
    path "versions.yml"                  , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}.${meta.shard}"
    def out = "${prefix}.cells.sgrf"
    """
    tokenize ${data} --vocab ${vocab} ${args} --shard ${meta.shard}/${meta.shards} -t ${task.cpus} -o ${out}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        scgrn: \$(tokenize --version)
    END_VERSIONS
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}.${meta.shard}"
    """
    touch ${prefix}.cells.sgrf

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        scgrn: \$(tokenize --version)
    END_VERSIONS
    """
}
