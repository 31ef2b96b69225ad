// GENE (or CELL) frames + prior network → MODEL frames: the graph attention model, trained.
process SCGRN_GRAPHIFY {
    tag "${meta.id}"
    label 'process_high'

    container 'scgrn:0.1.0'

    input:
    tuple val(meta), path(genes)
    path prior                    // regulator<TAB>target[<TAB>label]
    path train                    // labelled training pairs, or [] for none
    path valid                    // labelled validation pairs, or [] for none

    output:
    tuple val(meta), path("*.model.sgrf"), emit: model
    path "versions.yml"                  , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    def train_opt = train ? "--train ${train}" : ''
    def valid_opt = valid ? "--valid ${valid}" : ''
    def out = "${prefix}.model.sgrf"
    """
    graphify ${genes} --prior ${prior} ${train_opt} ${valid_opt} ${args} -t ${task.cpus} -o ${out}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        scgrn: \$(graphify --version)
    END_VERSIONS
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.model.sgrf

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        scgrn: \$(graphify --version)
    END_VERSIONS
    """
}
