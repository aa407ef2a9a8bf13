#!/bin/sh
# Run by `npm install` in the installed package (package.json "install"): builds tbuild's native programs for this
# machine with its C compiler: the launcher (native/build/tbuild), the sandbox helper that runs RUN steps and the
# context watcher of the resident builder. It never fails the install: without a compiler or make, or when the build
# fails, it prints one line saying what was not built, why, and what tbuild does without it.
# A source checkout (tsconfig.json beside package.json) is left alone: `npm run build` builds native/ there.
[ -f tsconfig.json ] && exit 0
cc=${CC:-cc}
why=
command -v "${cc%% *}" >/dev/null 2>&1 || why="no C compiler ($cc)"
command -v make >/dev/null 2>&1 || why="${why:+$why, }no make"
if [ -z "$why" ]; then
  mkdir -p native/build
  # -k: whatever compiles is kept (the sandbox helper without the launcher, say).
  make -k -C native >native/build/make.log 2>&1 && exit 0
  why="the build failed, see native/build/make.log"
fi
lacking=
costs=
if ! [ -x native/build/tbuild ] || ! [ -f native/build/bundle.sha256 ]; then
  lacking="the launcher"
  costs="every tbuild command starts Node (a build then goes to the resident builder)"
fi
if ! [ -x native/build/tbuild-sandbox ]; then
  lacking="${lacking:+$lacking, }the sandbox helper"
  costs="${costs:+$costs, }RUN steps need --oci-runtime runc or crun"
fi
if ! [ -x native/build/tbuild-watch ]; then
  lacking="${lacking:+$lacking, }the context watcher"
  costs="${costs:-the resident builder walks each build's context}"
fi
echo "tbuild: $lacking not built ($why): $costs; install a C compiler and make, then run 'npm rebuild tbuild' (-g for a global install)" >&2
exit 0
