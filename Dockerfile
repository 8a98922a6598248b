# Image for the parts of docker-compose.yml that come from this repository: the
# setup and bootstrap steps, the chaincode server and the API. Fabric's own
# processes run from the official images.

FROM golang:1.26-bookworm AS go

FROM node:20-bookworm AS build
COPY --from=go /usr/local/go /usr/local/go
ENV PATH=/usr/local/go/bin:$PATH \
    GIGLEDGER_TOOLCHAIN=/opt/fabric-toolchain
WORKDIR /opt/gigledger
COPY package.json package-lock.json ./
COPY chaincode/package.json chaincode/
COPY gateway/package.json gateway/
COPY network/package.json network/
COPY api/package.json api/
COPY test/package.json test/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm run setup && npm prune --omit=dev

FROM node:20-bookworm-slim AS app
ENV GIGLEDGER_TOOLCHAIN=/opt/fabric-toolchain \
    NODE_ENV=production
COPY --from=build /opt/fabric-toolchain /opt/fabric-toolchain
COPY --from=build /opt/gigledger /opt/gigledger
WORKDIR /opt/gigledger
CMD ["node", "api/dist/main.js"]
