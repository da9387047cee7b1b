# Glassbox's Beam worker image: Beam's Go SDK image (its `boot` entrypoint),
# plus what a Glassbox worker needs that the distroless Beam base lacks:
# ONNX Runtime (libonnxruntime.so.1), the C++ runtime it links (libstdc++,
# libgcc_s), Glassbox's cgo worker binary and GLASSBOX_ORT_LIB.
#
# Build from the repository root:
#   docker build -f deploy/worker.Dockerfile -t REGISTRY/glassbox-worker:TAG .
# Take the worker binary out of the image, so the binary Beam stages is the one
# built against the image's C library:
#   docker create --name gb REGISTRY/glassbox-worker:TAG && docker cp gb:/opt/glassbox/bin/glassbox bin/glassbox-worker && docker rm gb
# Then run (README, "Runners"):
#   Dataflow:    --runner dataflow --sdk_container_image REGISTRY/glassbox-worker:TAG --worker_binary bin/glassbox-worker
#   Flink/Spark: --runner flink --endpoint JOB_SERVER --environment_type DOCKER --environment_config REGISTRY/glassbox-worker:TAG --worker_binary bin/glassbox-worker
#   Worker pool: docker run -p 50000:50000 --entrypoint /opt/glassbox/bin/glassbox REGISTRY/glassbox-worker:TAG worker-pool --port 50000
#                (then --environment_type EXTERNAL --environment_config HOST:50000)

ARG BEAM_VERSION=2.77.0
ARG GO_VERSION=1.26.8

# The worker binary, with cgo, against Debian 12's C library (the Beam base is Debian 12).
FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 GOOS=linux GOARCH=amd64 go build -trimpath -o /out/glassbox ./cmd/glassbox

# ONNX Runtime 1.30 from the npm package onnxruntime-node, checked as scripts/fetch-ort.sh checks it.
FROM node:22-bookworm-slim AS ort
WORKDIR /ort
RUN npm pack --silent onnxruntime-node@1.30.0 \
 && tar -xzf onnxruntime-node-1.30.0.tgz package/bin/napi-v6/linux/x64/libonnxruntime.so.1 \
 && echo "ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23  package/bin/napi-v6/linux/x64/libonnxruntime.so.1" | sha256sum -c - \
 && mv package/bin/napi-v6/linux/x64/libonnxruntime.so.1 /ort/libonnxruntime.so.1

# The C++ runtime ONNX Runtime links, from the same Debian release as the Beam base.
FROM debian:bookworm-slim AS libs
RUN mkdir -p /out && cp -L /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /lib/x86_64-linux-gnu/libgcc_s.so.1 /out/

FROM apache/beam_go_sdk:${BEAM_VERSION}
COPY --from=libs /out/libstdc++.so.6 /usr/lib/x86_64-linux-gnu/libstdc++.so.6
COPY --from=libs /out/libgcc_s.so.1 /lib/x86_64-linux-gnu/libgcc_s.so.1
COPY --from=ort /ort/libonnxruntime.so.1 /opt/glassbox/lib/libonnxruntime.so.1
COPY --from=build /out/glassbox /opt/glassbox/bin/glassbox
ENV GLASSBOX_ORT_LIB=/opt/glassbox/lib/libonnxruntime.so.1
ENTRYPOINT ["/opt/apache/beam/boot"]
