// MODEL frames → ranked regulator → target edges, with AUROC/AUPRC/EPR when a truth is given.
process SCGRN_SCORE {
    tag "${meta.id}"
    label 'process_low'

    container 'scgrn:0.1.0'

    input:
    tuple val(meta), path(model)
    path pairs                    // candidate pairs, or [] when tfs is given
    path tfs                      // TF list (every TF × gene pair), or [] when pairs is given
    path truth                    // labelled pairs or positive edges, or [] for none

    output:
    tuple val(meta), path("*.edges.tsv")   , emit: edges
    tuple val(meta), path("*.metrics.json"), emit: metrics, optional: true
    path "versions.yml"                    , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    if (!pairs == !tfs) error "SCGRN_SCORE: give exactly one of pairs or tfs"
    def candidates_opt = pairs ? "--pairs ${pairs}" : "--tfs ${tfs}"
    def truth_opt = truth ? "--truth ${truth} --metrics ${prefix}.metrics.json" : ''
    def out = "${prefix}.edges.tsv"
    """
    score ${model} ${candidates_opt} ${truth_opt} ${args} -t ${task.cpus} -o ${out}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        scgrn: \$(score --version)
    END_VERSIONS
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.edges.tsv
    ${truth ? "touch ${prefix}.metrics.json" : ''}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        scgrn: \$(score --version)
    END_VERSIONS
    """
}
