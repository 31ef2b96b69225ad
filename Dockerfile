# The scgrn tools in a container image: the image the Nextflow pipeline (pipelines/) runs.
#
#   docker build -t scgrn:0.1.0 .
#   docker run --rm -v "$PWD:$PWD" -w "$PWD" scgrn:0.1.0 tokenize --help
#
# Two stages: the tools are compiled in the official Swift image (the Swift runtime linked in
# statically), then copied into a plain Ubuntu with only the run-time libraries. The system
# packages of both stages come from pipelines/container/apt-packages.tsv.
ARG SWIFT_VERSION=6.3.1
ARG UBUNTU=noble

FROM swift:${SWIFT_VERSION}-${UBUNTU} AS build
WORKDIR /src
COPY pipelines/container/ pipelines/container/
RUN pipelines/container/install-packages.sh build
COPY . .
RUN swift build -c release --static-swift-stdlib \
 && bin=$(swift build -c release --static-swift-stdlib --show-bin-path) \
 && mkdir /out \
 && for tool in tokenize embed graphify score frames pretrain; do install -m 755 "$bin/$tool" /out/; done

FROM ubuntu:${UBUNTU}
COPY pipelines/container/ /scgrn-setup/
RUN /scgrn-setup/install-packages.sh runtime && rm -rf /scgrn-setup
COPY --from=build /out/ /usr/local/bin/
# Every tool answers --version; fail the build if one cannot start (a missing library).
RUN for tool in tokenize embed graphify score frames pretrain; do "$tool" --version >/dev/null; done
LABEL org.opencontainers.image.title="scgrn" \
      org.opencontainers.image.description="Gene regulatory networks from single-cell RNA-seq: tokenize, embed, graphify, score" \
      org.opencontainers.image.version="0.1.0"
CMD ["tokenize", "--help"]
