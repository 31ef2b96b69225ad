// CELL frames → GENE frames: every cell through the pretrained transformer, pooled per gene.
process SCGRN_EMBED {
    tag "${meta.id} ${meta.shard}/${meta.shards}"
    label 'process_high'

    container 'scgrn:0.1.0'

    input:
    tuple val(meta), path(cells)  // meta: [id, shard, shards]
    path model                    // .safetensors, scBERT's .pth or an Exceiver .ckpt

    output:
    tuple val(meta), path("*.genes.sgrf"), emit: genes
    path "versions.yml"                  , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}.${meta.shard}"
    def out = "${prefix}.genes.sgrf"
    """
    embed ${cells} --model ${model} ${args} -t ${task.cpus} -o ${out}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        scgrn: \$(embed --version)
    END_VERSIONS
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}.${meta.shard}"
    """
    touch ${prefix}.genes.sgrf

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        scgrn: \$(embed --version)
    END_VERSIONS
    """
}
