# tradejob — one command to run a cycle (`make run`), one to pass the tests (`make test`).
PREFIX ?= /usr/local
SWIFT ?= swift
CONFIG ?= config/default.json
STATE ?= state
BIN_DEBUG := .build/debug/tradejob
BIN_RELEASE := .build/release/tradejob
PIE ?= 0
SYSTEM_PACKAGES := libsqlite3-dev libcurl4-openssl-dev

.PHONY: deps build run test release bench bench-backtest bench-optimize bench-accounts install uninstall clean

## deps: install the system libraries when missing (as root), or print the exact command.
deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing:$$missing"; (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "missing system packages:$$missing"; echo "run as root: apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

build: deps
	$(SWIFT) build

## run: one cycle on the built-in default (simulated market, paper broker; no network, no account).
run: build
	$(BIN_DEBUG) run --config $(CONFIG) --state-dir $(STATE)

## test: the whole test suite (the end-to-end tests run the built binary).
test: build
	$(SWIFT) test
	@# With a PostgreSQL test server (.ci/postgres sets TRADEJOB_TEST_POSTGRES_URL), the end-to-end suite runs again
	@# with every harness's state on PostgreSQL (suites about the SQLite files themselves say they are skipped).
	@if [ -n "$${TRADEJOB_TEST_POSTGRES_URL:-}" ]; then \
	  echo "== the end-to-end suite again, on PostgreSQL"; \
	  TRADEJOB_TEST_BACKEND=postgres $(SWIFT) test --skip-build --filter EndToEndTests; \
	fi

## release: the static release binary, position-dependent (PIE=1 for a position-independent one), with libcurl loaded
## on the first HTTP request instead of at start-up, no dynamic symbol table of its own (--no-export-dynamic) and
## SQLite linked in from libsqlite3-dev's static library when there is one (SQLITE_STATIC=0: the shared one); see
## README "Start-up". `-lsqlite3` finds the static library first because a link to it sits in the build directory,
## which the linker searches before the system's; the binary is relinked when that link appears or goes.
## Generic types are instantiated through their metadata accessors, not by mangled name: instantiating by name checks
## the generic requirements (a `Dictionary`'s key is `Hashable`) by scanning every protocol conformance record in the
## binary, ~0.5 M instructions per new key type, 14 % of an 8-symbol cycle (README "Start-up"). Applies to every module,
## the dependencies' too.
METADATA_FLAGS := -Xswiftc -Xfrontend -Xswiftc -disable-concrete-type-metadata-mangled-name-accessors
SQLITE_STATIC ?= 1
SQLITE_ARCHIVE := $(firstword $(wildcard /usr/lib/x86_64-linux-gnu/libsqlite3.a /usr/lib/aarch64-linux-gnu/libsqlite3.a /usr/lib64/libsqlite3.a /usr/lib/libsqlite3.a))
release: deps
	@bin=$$($(SWIFT) build -c release --show-bin-path) && mkdir -p $$bin && \
	if [ "$(SQLITE_STATIC)" = "1" ] && [ -n "$(SQLITE_ARCHIVE)" ]; then \
	  [ -e $$bin/libsqlite3.a ] || { ln -sf $(SQLITE_ARCHIVE) $$bin/libsqlite3.a && rm -f $$bin/tradejob; }; \
	elif [ -e $$bin/libsqlite3.a ]; then rm -f $$bin/libsqlite3.a $$bin/tradejob; fi
	$(SWIFT) build -c release --static-swift-stdlib $(if $(filter 1,$(PIE)),,-Xlinker -no-pie) -Xlinker --no-export-dynamic $(METADATA_FLAGS)
	python3 tools/defer-libcurl.py $(BIN_RELEASE)

## bench: release-build benchmarks (figures in the README).
bench: release
	$(SWIFT) build -c release --product tradejob-bench $(METADATA_FLAGS)
	Benchmarks/run.sh
	Benchmarks/startup.sh
	Benchmarks/cycle400.sh

## bench-backtest: backtest speed against backtesting.py and in cycle-symbols per second (figures in the README).
bench-backtest: release
	Benchmarks/backtest.sh

## bench-optimize: 1,000 TPE trials of the default strategy on 8 symbols × 35,040 bars, --jobs 2 and 1 (figures in the README).
bench-optimize: release
	Benchmarks/optimize.sh

## bench-accounts: 100 accounts × 8 symbols on one PostgreSQL server vs SQLite files, 10 cycles at a time (needs
## TRADEJOB_TEST_POSTGRES_URL/PASSWORD: eval "$$(sudo bash .ci/postgres)").
bench-accounts: release
	Benchmarks/accounts.sh

## install: release binary, example config, crontab and systemd units with the paths filled in.
install: release
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/etc/tradejob $(DESTDIR)$(PREFIX)/share/tradejob \
	  $(DESTDIR)$(PREFIX)/share/doc/tradejob $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/var/log
	install -d -m 0700 $(DESTDIR)$(PREFIX)/var/lib/tradejob
	install -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/tradejob/README.md
	install -m 0755 $(BIN_RELEASE) $(DESTDIR)$(PREFIX)/bin/tradejob
	install -m 0644 config/default.json $(DESTDIR)$(PREFIX)/etc/tradejob/config.example.json
	[ -e $(DESTDIR)$(PREFIX)/etc/tradejob/config.json ] || install -m 0644 config/default.json $(DESTDIR)$(PREFIX)/etc/tradejob/config.json
	for f in tradejob.cron tradejob.service tradejob.timer; do \
	  sed -e 's|/usr/local/bin/tradejob|$(PREFIX)/bin/tradejob|g' \
	      -e 's|/usr/local/etc/tradejob|$(PREFIX)/etc/tradejob|g' \
	      -e 's|/usr/local/var/lib/tradejob|$(PREFIX)/var/lib/tradejob|g' \
	      -e 's|/usr/local/var/log|$(PREFIX)/var/log|g' \
	      -e 's|/usr/local/share/doc/tradejob|$(PREFIX)/share/doc/tradejob|g' crontab/$$f > $(DESTDIR)$(PREFIX)/share/tradejob/$$f; \
	done
	install -m 0644 $(DESTDIR)$(PREFIX)/share/tradejob/tradejob.service $(DESTDIR)$(PREFIX)/lib/systemd/system/tradejob.service
	install -m 0644 $(DESTDIR)$(PREFIX)/share/tradejob/tradejob.timer $(DESTDIR)$(PREFIX)/lib/systemd/system/tradejob.timer
	@echo "installed into $(PREFIX); schedule with: crontab $(PREFIX)/share/tradejob/tradejob.cron  or  systemctl enable --now tradejob.timer"

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/tradejob $(DESTDIR)$(PREFIX)/etc/tradejob/config.example.json \
	  $(DESTDIR)$(PREFIX)/share/tradejob/tradejob.cron $(DESTDIR)$(PREFIX)/share/tradejob/tradejob.service \
	  $(DESTDIR)$(PREFIX)/share/tradejob/tradejob.timer $(DESTDIR)$(PREFIX)/lib/systemd/system/tradejob.service \
	  $(DESTDIR)$(PREFIX)/lib/systemd/system/tradejob.timer $(DESTDIR)$(PREFIX)/share/doc/tradejob/README.md
	-rmdir $(DESTDIR)$(PREFIX)/share/tradejob $(DESTDIR)$(PREFIX)/share/doc/tradejob 2>/dev/null
	@echo "removed; $(PREFIX)/etc/tradejob/config.json, $(PREFIX)/var/lib/tradejob (state) and $(PREFIX)/var/log are kept"

clean:
	rm -rf .build
