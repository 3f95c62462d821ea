# PostgreSQL 15 from Debian's own package, for machines that cannot pull public images (the
# official postgres image is what compose.yaml names for everyone else). Built on the base of
# deploy/base-image.sh; it behaves as the official image does where compose relies on it:
# POSTGRES_PASSWORD for the superuser, /docker-entrypoint-initdb.d/*.sh run once on an empty
# data directory, PGDATA=/var/lib/postgresql/data, and it runs as the postgres user.
#   docker build -f deploy/debian/postgres.Dockerfile --build-arg BASE_IMAGE=sinergi-base:bookworm -t sinergi-postgres:15 deploy/debian
ARG BASE_IMAGE=sinergi-base:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 \
    && apt-get clean && rm -rf /var/lib/apt/lists/* \
    && rm -rf /var/lib/postgresql/15 /etc/postgresql \
    && mkdir -p /var/lib/postgresql/data /docker-entrypoint-initdb.d \
    && chown postgres:postgres /var/lib/postgresql/data && chmod 0700 /var/lib/postgresql/data
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
USER postgres
EXPOSE 5432
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]
CMD ["postgres"]
