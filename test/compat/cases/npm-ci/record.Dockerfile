FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends nodejs && rm -rf /var/lib/apt/lists/*
# npm itself comes from the npm registry (Debian's npm package pulls in hundreds of packages)
ADD https://registry.npmjs.org/npm/-/npm-10.8.2.tgz /tmp/npm.tgz
RUN mkdir -p /usr/local/lib/npm && tar -xzf /tmp/npm.tgz -C /usr/local/lib/npm --strip-components=1 --no-same-owner \
 && rm /tmp/npm.tgz && ln -s ../lib/npm/bin/npm-cli.js /usr/local/bin/npm
ENV NODE_ENV=production npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
WORKDIR /usr/src/app
COPY package.json package-lock.json ./
# The registry may sit behind a TLS proxy: the building machine's CA bundle comes in as a secret
RUN --mount=type=secret,id=ca-bundle --mount=type=cache,target=/root/.npm \
    npm_config_cafile=/run/secrets/ca-bundle npm ci --omit=dev
COPY index.js ./
RUN node index.js > /usr/src/app/output.json
CMD ["node", "index.js"]
