# The Users Orchestrator image: the static binary on an empty base, run as a non-root user.
#
# Build it with `make image` (scripts/image.sh): it builds bin/usersorchestrator with `make build`
# (CGO_ENABLED=0, -trimpath, stripped) and stages bin/image/ from the build host, then builds this
# file and smoke-tests the result. There is no builder stage: no base image (golang, distroless)
# can be pulled where this project builds, so nothing here comes from a registry. The contract
# (openapi.yaml) and the database migrations are embedded in the binary.
FROM scratch

# CA certificates (TLS to the identity providers, the JWKS endpoint and SMTP) and time zone data,
# copied from the build host by scripts/image.sh.
COPY bin/image/rootfs/ /
# The SQLite directory and a temp directory, owned by the service user (and so writable by it
# alone: run the image as 65532, or mount /data writable for the user you choose). scratch has no
# mkdir or chown, so scripts/image.sh stages them empty and COPY gives them their owner.
COPY --chown=65532:65532 bin/image/data/ /data/
COPY --chown=65532:65532 bin/image/tmp/ /tmp/
COPY bin/usersorchestrator /usersorchestrator

# The built-in configuration listens on 127.0.0.1, which nothing outside the container reaches.
# The database goes to /data (mount a volume there to keep it). Every UO_* variable of
# internal/config overrides these and the rest at `docker run -e` (UO_DATABASE_DRIVER/DSN,
# UO_ENCRYPTION_KEY, UO_SESSION_KEY, UO_AUTH_*, UO_SMTP_*, ...), and UO_CONFIG names a mounted
# YAML file. Without its own keys (UO_ENCRYPTION_KEY, UO_SESSION_KEY and UO_AUTH_*) the service
# refuses to start on this address: the built-in development keys serve on loopback only.
ENV UO_LISTEN=0.0.0.0:8080 \
    UO_DATABASE_PATH=/data/usersorchestrator.db \
    TMPDIR=/tmp

# 65532 is the conventional "nonroot" id of distroless images; numeric, as scratch has no /etc/passwd.
USER 65532:65532
WORKDIR /data
EXPOSE 8080
ENTRYPOINT ["/usersorchestrator"]
CMD ["serve"]
