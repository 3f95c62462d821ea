# Redis from Debian's own package (7.0 in bookworm), for machines that cannot pull public
# images; compose.yaml names redis:7-alpine for everyone else. Runs as the redis user.
#   docker build -f deploy/debian/redis.Dockerfile --build-arg BASE_IMAGE=sinergi-base:bookworm -t sinergi-redis:7 deploy/debian
ARG BASE_IMAGE=sinergi-base:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
USER redis
WORKDIR /var/lib/redis
EXPOSE 6379
CMD ["redis-server", "--save", "", "--appendonly", "no"]
