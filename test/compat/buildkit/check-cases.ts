// The checkLinterWarnings calls of moby/buildkit frontend/dockerfile/dockerfile_check_test.go, as data: one entry per
// test function, one item per call, in order. Each warning keeps BuildKit's rule name, detail and line; the rule's
// description and URL, which BuildKit's test spells out alike for every warning of a rule, are in RULE_DOCS.
// Base images: alpine is busybox here (the Dockerfiles only run sh and echo).
// BuildKit's lint-request check (checkUnmarshal) does not compare lines: where its test gives lines the Dockerfile
// does not have (testLegacyKeyValueFormat call 3 says 3 and 4 for the ENV and LABEL of lines 5 and 6), the lines here
// are the instructions' own.

/** RULE_DOCS is the [description, URL] BuildKit's test expects with the warnings of each rule ('' for no URL). */
export const RULE_DOCS: Readonly<Record<string, readonly [string, string]>> = {
  InvalidDefinitionDescription: ["Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.","https://docs.docker.com/go/dockerfile/rule/invalid-definition-description/"],
  CopyIgnoredFile: ["Attempting to Copy file that is excluded by .dockerignore","https://docs.docker.com/go/dockerfile/rule/copy-ignored-file/"],
  SecretsUsedInArgOrEnv: ["Sensitive data should not be used in the ARG or ENV commands","https://docs.docker.com/go/dockerfile/rule/secrets-used-in-arg-or-env/"],
  UndefinedVar: ["Variables should be defined before their use","https://docs.docker.com/go/dockerfile/rule/undefined-var/"],
  FromAsCasing: ["The 'as' keyword should match the case of the 'from' keyword","https://docs.docker.com/go/dockerfile/rule/from-as-casing/"],
  StageNameCasing: ["Stage names should be lowercase","https://docs.docker.com/go/dockerfile/rule/stage-name-casing/"],
  NoEmptyContinuation: ["Empty continuation lines will become errors in a future release","https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/"],
  ConsistentInstructionCasing: ["All commands within the Dockerfile should use the same casing (either upper or lower)","https://docs.docker.com/go/dockerfile/rule/consistent-instruction-casing/"],
  DuplicateStageName: ["Stage names should be unique","https://docs.docker.com/go/dockerfile/rule/duplicate-stage-name/"],
  ReservedStageName: ["Reserved words should not be used as stage names","https://docs.docker.com/go/dockerfile/rule/reserved-stage-name/"],
  JSONArgsRecommended: ["JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals","https://docs.docker.com/go/dockerfile/rule/json-args-recommended/"],
  MaintainerDeprecated: ["The MAINTAINER instruction is deprecated, use a label instead to define an image author","https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/"],
  UndefinedArgInFrom: ["FROM command must use declared ARGs","https://docs.docker.com/go/dockerfile/rule/undefined-arg-in-from/"],
  WorkdirRelativePath: ["Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes","https://docs.docker.com/go/dockerfile/rule/workdir-relative-path/"],
  MultipleInstructionsDisallowed: ["Multiple instructions of the same type should not be used in the same stage","https://docs.docker.com/go/dockerfile/rule/multiple-instructions-disallowed/"],
  LegacyKeyValueFormat: ["Legacy key/value format with whitespace separator should not be used","https://docs.docker.com/go/dockerfile/rule/legacy-key-value-format/"],
  RedundantTargetPlatform: ["Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior","https://docs.docker.com/go/dockerfile/rule/redundant-target-platform/"],
  InvalidDefaultArgInFrom: ["Default value for global ARG results in an empty or invalid base image name","https://docs.docker.com/go/dockerfile/rule/invalid-default-arg-in-from/"],
  FromPlatformFlagConstDisallowed: ["FROM --platform flag should not use a constant value","https://docs.docker.com/go/dockerfile/rule/from-platform-flag-const-disallowed/"],
  ExposeProtoCasing: ["Protocol in EXPOSE instruction should be lowercase","https://docs.docker.com/go/dockerfile/rule/expose-proto-casing/"],
  ExposeInvalidFormat: ["IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release","https://docs.docker.com/go/dockerfile/rule/expose-invalid-format/"],
  InvalidBaseImagePlatform: ["Base image platform does not match expected target platform",""],
};

/** LintWarning is one expected warning: [rule name, detail, line]. */
export type LintWarning = readonly [string, string, number];

/** LintCall is one checkLinterWarnings call of BuildKit's test (lintTestParams). */
export interface LintCall {
  readonly dockerfile: string;
  readonly dockerignore?: string;
  readonly warnings: readonly LintWarning[];
  /** Warnings of the lint request when they differ from the build's (UnmarshalWarnings). */
  readonly lintWarnings?: readonly LintWarning[];
  readonly buildErr?: string;
  /** StreamBuildErrRegexp: the build's error matches it. */
  readonly buildErrRegexp?: string;
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** The platform frontend attribute (--platform). */
  readonly platform?: string;
}

export const LINT_CALLS: Readonly<Record<string, readonly LintCall[]>> = {
  testDefinitionDescription: [
    {"dockerfile": "# check=skip=all;experimental=InvalidDefinitionDescription\n# foo this is the foo\nARG foo=bar\n\n# base this is the base image\nFROM scratch AS base\n\n# version this is the version number\nARG version=latest\n\n# baz this is the baz\nARG foo=baz bar=qux baz=quux\n#\nARG bit=bat\n\n# comment for something other than ARG or FROM\nCOPY Dockerfile .\n", "warnings": []},
    {"dockerfile": "# check=experimental=InvalidDefinitionDescription\n# bar this is the bar\nARG foo=bar\n# BasE this is the BasE image\nFROM scratch AS base\n# definitely a bad comment\nARG version=latest\n# definitely a bad comment\nARG foo=baz bar=qux baz=quux\n", "warnings": [["InvalidDefinitionDescription", "Comment for ARG should follow the format: `# foo <description>`", 3], ["InvalidDefinitionDescription", "Comment for FROM should follow the format: `# base <description>`", 5], ["InvalidDefinitionDescription", "Comment for ARG should follow the format: `# version <description>`", 7], ["InvalidDefinitionDescription", "Comment for ARG should follow the format: `# <arg_key> <description>`", 9]]},
  ],
  testCopyIgnoredFiles: [
    {"dockerfile": "\nFROM scratch\nCOPY Dockerfile .\nADD Dockerfile /windy\n", "dockerignore": "\nDockerfile\n", "warnings": [["CopyIgnoredFile", "Attempting to Copy file \"Dockerfile\" that is excluded by .dockerignore", 3], ["CopyIgnoredFile", "Attempting to Add file \"Dockerfile\" that is excluded by .dockerignore", 4]], "buildErrRegexp": "failed to solve: failed to compute cache key: failed to calculate checksum of ref [^\\s]+ \"/Dockerfile\": not found"},
    {"dockerfile": "\nFROM scratch\nCOPY Dockerfile .\nADD Dockerfile /windy\n", "dockerignore": "\nDockerfile\n", "warnings": [["CopyIgnoredFile", "Attempting to Copy file \"Dockerfile\" that is excluded by .dockerignore", 3], ["CopyIgnoredFile", "Attempting to Add file \"Dockerfile\" that is excluded by .dockerignore", 4]], "buildErrRegexp": "failed to solve: failed to compute cache key: failed to calculate checksum of ref [^\\s]+ \"/Dockerfile\": not found"},
    {"dockerfile": "# check=skip=CopyIgnoredFile\n\nFROM scratch\nCOPY Dockerfile .\nADD Dockerfile /windy\n", "dockerignore": "\nDockerfile\n", "warnings": [], "buildErrRegexp": "failed to solve: failed to compute cache key: failed to calculate checksum of ref [^\\s]+ \"/Dockerfile\": not found"},
    {"dockerfile": "\nFROM scratch AS base\nCOPY Dockerfile /foobar\nADD Dockerfile /windy\n\nFROM base\nCOPY --from=base /foobar /Dockerfile\n", "dockerignore": "\nfoobar\n", "warnings": []},
    {"dockerfile": "\nFROM scratch\nCOPY ./Dockerfile .\n", "dockerignore": "\n**\n!Dockerfile\n", "warnings": []},
    {"dockerfile": "\nFROM scratch\nCOPY . .\n\t", "dockerignore": "\n**\n!Dockerfile\n", "warnings": []},
  ],
  testCopyIgnoredFileContextRoot: [
    {"dockerfile": "\nFROM scratch\nCOPY . .\n", "dockerignore": "\n.*\n", "warnings": []},
    {"dockerfile": "\nFROM scratch\nCOPY . .\n", "dockerignore": "\n*\n", "warnings": [["CopyIgnoredFile", "Attempting to Copy file \".\" that is excluded by .dockerignore", 3]]},
  ],
  testSecretsUsedInArgOrEnv: [
    {"dockerfile": "# check=skip=InvalidDefinitionDescription\n\nFROM scratch\nARG SECRET_PASSPHRASE\nENV SUPER_Secret=foo\nENV password=bar secret=baz\nARG super_duper_secret_token=foo auth=bar\nENV apikey=bar sunflower=foo\nENV git_key=\nENV PUBLIC_KEY=\nARG public_token\nARG SECRET_PASSPHRASE_FILE\nENV password_file=bar secret_File=baz\nARG AUTH_MODULE_VERSION\n# check=skip=SecretsUsedInArgOrEnv // allow secret in environment\nENV password=bar\n# check=skip=SecretsUsedInArgOrEnv // allow secret in arg\nARG password\n# check=skip=all // is local to only this instruction\nENV alternate_password=bar\n# check=skip=all // is local to only this instruction\nARG alternate_password\n", "warnings": [["SecretsUsedInArgOrEnv", "Do not use ARG or ENV instructions for sensitive data (ARG \"SECRET_PASSPHRASE\")", 4], ["SecretsUsedInArgOrEnv", "Do not use ARG or ENV instructions for sensitive data (ENV \"SUPER_Secret\")", 5], ["SecretsUsedInArgOrEnv", "Do not use ARG or ENV instructions for sensitive data (ENV \"password\")", 6], ["SecretsUsedInArgOrEnv", "Do not use ARG or ENV instructions for sensitive data (ENV \"secret\")", 6], ["SecretsUsedInArgOrEnv", "Do not use ARG or ENV instructions for sensitive data (ARG \"auth\")", 7], ["SecretsUsedInArgOrEnv", "Do not use ARG or ENV instructions for sensitive data (ARG \"super_duper_secret_token\")", 7], ["SecretsUsedInArgOrEnv", "Do not use ARG or ENV instructions for sensitive data (ENV \"apikey\")", 8], ["SecretsUsedInArgOrEnv", "Do not use ARG or ENV instructions for sensitive data (ENV \"git_key\")", 9]]},
  ],
  testAllTargetUnmarshal: [
    {"dockerfile": "\nFROM scratch AS first\nCOPY $foo .\n\nFROM scratch AS second\nCOPY $bar .\n", "warnings": [["UndefinedVar", "Usage of undefined variable '$bar'", 6]], "lintWarnings": [["UndefinedVar", "Usage of undefined variable '$foo'", 3], ["UndefinedVar", "Usage of undefined variable '$bar'", 6]]},
  ],
  testRuleCheckOption: [
    {"dockerfile": "#check=skip=all\nFROM scratch as base\ncopy Dockerfile .\n", "warnings": []},
    {"dockerfile": "#check=skip=all;error=true\nFROM scratch as base\ncopy Dockerfile .\n", "warnings": []},
    {"dockerfile": "#check=skip=ConsistentInstructionCasing,FromAsCasing\nFROM scratch as base\ncopy Dockerfile .\n", "warnings": []},
    {"dockerfile": "#check=skip=ConsistentInstructionCasing,FromAsCasing;error=true\nFROM scratch as base\ncopy Dockerfile .\n", "warnings": []},
    {"dockerfile": "#check=skip=ConsistentInstructionCasing\nFROM scratch as base\ncopy Dockerfile .\n", "warnings": [["FromAsCasing", "'as' and 'FROM' keywords' casing do not match", 2]]},
    {"dockerfile": "#check=skip=ConsistentInstructionCasing;error=true\nFROM scratch as base\ncopy Dockerfile .\n", "warnings": [["FromAsCasing", "'as' and 'FROM' keywords' casing do not match", 2]], "buildErr": "lint violation found for rules: FromAsCasing"},
    {"dockerfile": "#check=skip=all\nFROM scratch as base\ncopy Dockerfile .\n", "warnings": [["FromAsCasing", "'as' and 'FROM' keywords' casing do not match", 2]], "buildErr": "lint violation found for rules: FromAsCasing", "buildArgs": {"BUILDKIT_DOCKERFILE_CHECK": "skip=ConsistentInstructionCasing;error=true"}},
    {"dockerfile": "#check=error=true\nFROM scratch as base\ncopy Dockerfile .\n", "warnings": [], "buildArgs": {"BUILDKIT_DOCKERFILE_CHECK": "skip=all"}},
  ],
  testStageName: [
    {"dockerfile": "\n# warning: stage name should be lowercase\n#\nFROM scratch AS BadStageName\n\n# warning: 'as' should match 'FROM' cmd casing.\n#\nFROM scratch as base2\n\nFROM scratch AS base3\n", "warnings": [["StageNameCasing", "Stage name 'BadStageName' should be lowercase", 4], ["FromAsCasing", "'as' and 'FROM' keywords' casing do not match", 8]]},
    {"dockerfile": "\n# warning: 'AS' should match 'from' cmd casing.\n#\nfrom scratch AS base\n\nfrom scratch as base2\n", "warnings": [["FromAsCasing", "'AS' and 'from' keywords' casing do not match", 4]]},
  ],
  testNoEmptyContinuation: [
    {"dockerfile": "\nFROM scratch\n# warning: empty continuation line\nCOPY Dockerfile \\\n\n.\nCOPY Dockerfile \\\n.\n", "warnings": [["NoEmptyContinuation", "Empty continuation line", 6]]},
  ],
  testConsistentInstructionCasing: [
    {"dockerfile": "\n# warning: 'FROM' should be either lowercased or uppercased\n#\nFrom scratch as base\nFROM scratch AS base2\n", "warnings": [["ConsistentInstructionCasing", "Command 'From' should match the case of the command majority (uppercase)", 4]]},
    {"dockerfile": "\nFROM scratch\n# warning: 'copy' should match command majority's casing (uppercase)\ncopy Dockerfile /foo\nCOPY Dockerfile /bar\n", "warnings": [["ConsistentInstructionCasing", "Command 'copy' should match the case of the command majority (uppercase)", 4]]},
    {"dockerfile": "\n# warning: 'frOM' should be either lowercased or uppercased\n#\nfrOM scratch as base\nfrom scratch as base2\n", "warnings": [["ConsistentInstructionCasing", "Command 'frOM' should match the case of the command majority (lowercase)", 4]]},
    {"dockerfile": "\nfrom scratch\n# warning: 'COPY' should match command majority's casing (lowercase)\nCOPY Dockerfile /foo\ncopy Dockerfile /bar\n", "warnings": [["ConsistentInstructionCasing", "Command 'COPY' should match the case of the command majority (lowercase)", 4]]},
    {"dockerfile": "\n# warning: 'from' should match command majority's casing (uppercase)\n#\nfrom scratch\nCOPY Dockerfile /foo\nCOPY Dockerfile /bar\nCOPY Dockerfile /baz\n", "warnings": [["ConsistentInstructionCasing", "Command 'from' should match the case of the command majority (uppercase)", 4]]},
    {"dockerfile": "\n# warning: 'FROM' should match command majority's casing (lowercase)\n#\nFROM scratch\ncopy Dockerfile /foo\ncopy Dockerfile /bar\ncopy Dockerfile /baz\n", "warnings": [["ConsistentInstructionCasing", "Command 'FROM' should match the case of the command majority (lowercase)", 4]]},
    {"dockerfile": "\nfrom scratch\ncopy Dockerfile /foo\ncopy Dockerfile /bar\n", "warnings": []},
    {"dockerfile": "\nFROM scratch\nCOPY Dockerfile /foo\nCOPY Dockerfile /bar\n", "warnings": []},
    {"dockerfile": "\nFROM busybox\nRUN <<'EOT'\nenv\nEOT\n", "warnings": []},
  ],
  testDuplicateStageName: [
    {"dockerfile": "\nFROM scratch AS b\nFROM scratch AS b\n", "warnings": [["DuplicateStageName", "Duplicate stage name \"b\", stage names should be unique", 3]]},
    {"dockerfile": "\nFROM scratch AS b1\nFROM scratch AS b2\n", "warnings": []},
  ],
  testReservedStageName: [
    {"dockerfile": "\nFROM scratch AS scratch\nFROM scratch AS context\n", "warnings": [["ReservedStageName", "Stage name should not use the same name as reserved stage \"scratch\"", 2], ["ReservedStageName", "Stage name should not use the same name as reserved stage \"context\"", 3]]},
    {"dockerfile": "\nFROM scratch\nFROM scratch AS a\n", "warnings": []},
  ],
  testJSONArgsRecommended: [
    {"dockerfile": "\nFROM scratch\nCMD mycommand\n", "warnings": [["JSONArgsRecommended", "JSON arguments recommended for CMD to prevent unintended behavior related to OS signals", 3]]},
    {"dockerfile": "\nFROM scratch\nENTRYPOINT mycommand\n", "warnings": [["JSONArgsRecommended", "JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals", 3]]},
    {"dockerfile": "\nFROM scratch\nSHELL [\"/usr/bin/customshell\"]\nCMD mycommand\n", "warnings": []},
    {"dockerfile": "\nFROM scratch\nSHELL [\"/usr/bin/customshell\"]\nENTRYPOINT mycommand\n", "warnings": []},
    {"dockerfile": "\nFROM scratch AS base\nSHELL [\"/usr/bin/customshell\"]\n\nFROM base\nCMD mycommand\n", "warnings": []},
    {"dockerfile": "\nFROM scratch AS base\nSHELL [\"/usr/bin/customshell\"]\n\nFROM base\nENTRYPOINT mycommand\n", "warnings": []},
  ],
  testMaintainerDeprecated: [
    {"dockerfile": "\nFROM scratch\nMAINTAINER me@example.org\n", "warnings": [["MaintainerDeprecated", "Maintainer instruction is deprecated in favor of using label", 3]]},
    {"dockerfile": "\nFROM scratch\nLABEL org.opencontainers.image.authors=\"me@example.org\"\n", "warnings": []},
    {"dockerfile": "\nFROM scratch\n# check=skip=JSONArgsRecommended\nCMD mycommand\n", "warnings": []},
    {"dockerfile": "\nFROM scratch\n# check=skip=JSONArgsRecommended\nENTRYPOINT mycommand\n", "warnings": []},
    {"dockerfile": "\nFROM scratch\n# check=skip=MaintainerDeprecated\nMAINTAINER me@example.org\n", "warnings": []},
  ],
  testWarningsBeforeError: [
    {"dockerfile": "\nFROM scratch AS BadStageName\nMAINTAINER me@example.org\nBADCMD\n", "warnings": [["StageNameCasing", "Stage name 'BadStageName' should be lowercase", 2], ["MaintainerDeprecated", "Maintainer instruction is deprecated in favor of using label", 3]], "buildErr": "dockerfile parse error on line 4: unknown instruction: BADCMD"},
  ],
  testUndeclaredArg: [
    {"dockerfile": "\nARG base=scratch\nFROM $base\nCOPY Dockerfile .\n", "warnings": []},
    {"dockerfile": "\nARG BUILDPLATFORM=linux/amd64\nFROM --platform=$BUILDPLATFORM scratch\nCOPY Dockerfile .\n", "warnings": []},
    {"dockerfile": "\nFROM --platform=$BUILDPLATFORM scratch\nCOPY Dockerfile .\n", "warnings": []},
    {"dockerfile": "\nARG DEBUG\nFROM scratch${DEBUG}\nCOPY Dockerfile .\n", "warnings": []},
    {"dockerfile": "\nARG DEBUG\nFROM scra${DEBUG:-tch}\nCOPY Dockerfile .\n", "warnings": []},
    {"dockerfile": "\nARG DEBUG=\"\"\nFROM scratch${DEBUG-@bogus}\nCOPY Dockerfile .\n", "warnings": []},
    {"dockerfile": "\nFROM --platform=$BULIDPLATFORM scratch\nCOPY Dockerfile .\n", "warnings": [["UndefinedArgInFrom", "FROM argument 'BULIDPLATFORM' is not declared (did you mean BUILDPLATFORM?)", 2]], "buildErr": "empty platform value from expression $BULIDPLATFORM (did you mean BUILDPLATFORM?)"},
    {"dockerfile": "\nARG MY_OS=linux\nARG MY_ARCH=amd64\nFROM --platform=linux/${MYARCH} busybox\nCOPY Dockerfile .\n\t", "warnings": [["UndefinedArgInFrom", "FROM argument 'MYARCH' is not declared (did you mean MY_ARCH?)", 4]], "buildErr": "failed to parse platform linux/${MYARCH}: \"\" is an invalid component of \"linux/\": platform specifier component must match \"^[A-Za-z0-9_.-]+$\": invalid argument (did you mean MY_ARCH?)"},
    {"dockerfile": "\nARG tag=latest\nFROM busybox:${tag}${version} AS b\nCOPY Dockerfile .\n", "warnings": [["UndefinedArgInFrom", "FROM argument 'version' is not declared", 3]]},
  ],
  testWorkdirRelativePath: [
    {"dockerfile": "\nFROM scratch\nWORKDIR app/\n", "warnings": [["WorkdirRelativePath", "Relative workdir \"app/\" can have unexpected results if the base image changes", 3]]},
    {"dockerfile": "\nFROM scratch AS a\nWORKDIR /app\n\nFROM a AS b\nWORKDIR subdir/\n", "warnings": []},
    {"dockerfile": "\nFROM scratch\n# check=skip=WorkdirRelativePath\nWORKDIR app/\n", "warnings": []},
  ],
  testUnmatchedVars: [
    {"dockerfile": "\nFROM scratch\nARG foo\nCOPY Dockerfile${foo} .\n", "warnings": []},
    {"dockerfile": "\nFROM busybox AS base\nARG foo=Dockerfile\n\nFROM base\nCOPY $foo .\n", "warnings": []},
    {"dockerfile": "\nFROM busybox\nRUN echo $PATH\n", "warnings": []},
    {"dockerfile": "\nFROM busybox\nCOPY $foo .\nARG foo=bar\nRUN echo $foo\n", "warnings": [["UndefinedVar", "Usage of undefined variable '$foo'", 3]]},
    {"dockerfile": "\nFROM busybox\nARG DIR_BINARIES=binaries/\nARG DIR_ASSETS=assets/\nARG DIR_CONFIG=config/\nCOPY $DIR_ASSET .\n\t", "warnings": [["UndefinedVar", "Usage of undefined variable '$DIR_ASSET' (did you mean $DIR_ASSETS?)", 6]]},
    {"dockerfile": "\nFROM busybox\nENV PATH=$PAHT:/tmp/bin\n\t\t", "warnings": [["UndefinedVar", "Usage of undefined variable '$PAHT' (did you mean $PATH?)", 3]]},
  ],
  testMultipleInstructionsDisallowed: [
    {"dockerfile": "\nFROM scratch\nENTRYPOINT [\"/myapp\"]\nENTRYPOINT [\"/myotherapp\"]\nCMD [\"/myapp\"]\nCMD [\"/myotherapp\"]\nHEALTHCHECK CMD [\"/myapp\"]\nHEALTHCHECK CMD [\"/myotherapp\"]\n", "warnings": [["MultipleInstructionsDisallowed", "Multiple ENTRYPOINT instructions should not be used in the same stage because only the last one will be used", 3], ["MultipleInstructionsDisallowed", "Multiple CMD instructions should not be used in the same stage because only the last one will be used", 5], ["MultipleInstructionsDisallowed", "Multiple HEALTHCHECK instructions should not be used in the same stage because only the last one will be used", 7]]},
    {"dockerfile": "\nFROM scratch\nENTRYPOINT [\"/myapp\"]\nCMD [\"/myapp\"]\nHEALTHCHECK CMD [\"/myapp\"]\nCOPY <<EOF /a.txt\nHello, World!\nEOF\nENTRYPOINT [\"/myotherapp\"]\nCMD [\"/myotherapp\"]\nHEALTHCHECK CMD [\"/myotherapp\"]\n", "warnings": [["MultipleInstructionsDisallowed", "Multiple ENTRYPOINT instructions should not be used in the same stage because only the last one will be used", 3], ["MultipleInstructionsDisallowed", "Multiple CMD instructions should not be used in the same stage because only the last one will be used", 4], ["MultipleInstructionsDisallowed", "Multiple HEALTHCHECK instructions should not be used in the same stage because only the last one will be used", 5]]},
    {"dockerfile": "\nFROM scratch AS a\nENTRYPOINT [\"/myapp\"]\nCMD [\"/myapp\"]\nHEALTHCHECK CMD [\"/myapp\"]\n\nFROM a AS b\nENTRYPOINT [\"/myotherapp\"]\nCMD [\"/myotherapp\"]\nHEALTHCHECK CMD [\"/myotherapp\"]\n", "warnings": []},
  ],
  testLegacyKeyValueFormat: [
    {"dockerfile": "\nFROM scratch\nENV testkey value\nLABEL key value\n", "warnings": [["LegacyKeyValueFormat", "\"ENV key=value\" should be used instead of legacy \"ENV key value\" format", 3], ["LegacyKeyValueFormat", "\"LABEL key=value\" should be used instead of legacy \"LABEL key value\" format", 4]]},
    {"dockerfile": "\nFROM scratch\nENV testkey=value\nLABEL key=value\n", "warnings": []},
    {"dockerfile": "\nFROM scratch AS a\n\nFROM a AS b\nENV testkey value\nLABEL key value\n\nFROM a AS c\n", "warnings": [], "lintWarnings": [["LegacyKeyValueFormat", "\"ENV key=value\" should be used instead of legacy \"ENV key value\" format", 5], ["LegacyKeyValueFormat", "\"LABEL key=value\" should be used instead of legacy \"LABEL key value\" format", 6]]},
    {"dockerfile": "\nFROM scratch\n# check=skip=LegacyKeyValueFormat\nENV testkey value\n# check=skip=LegacyKeyValueFormat\nLABEL key value\n", "warnings": []},
  ],
  testRedundantTargetPlatform: [
    {"dockerfile": "\nFROM --platform=$TARGETPLATFORM scratch\n", "warnings": [["RedundantTargetPlatform", "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior", 2]]},
    {"dockerfile": "\nFROM --platform=${TARGETPLATFORM} scratch\n", "warnings": [["RedundantTargetPlatform", "Setting platform to predefined ${TARGETPLATFORM} in FROM is redundant as this is the default behavior", 2]]},
    {"dockerfile": "\n# check=skip=RedundantTargetPlatform\nFROM --platform=$TARGETPLATFORM scratch\n", "warnings": []},
  ],
  testInvalidDefaultArgInFrom: [
    {"dockerfile": "\nARG VERSION\nFROM busybox:$VERSION\n", "warnings": [["InvalidDefaultArgInFrom", "Default value for ARG busybox:$VERSION results in empty or invalid base image name", 3]], "buildArgs": {"VERSION": "latest"}},
    {"dockerfile": "\nARG IMAGE\nFROM $IMAGE\n", "warnings": [["InvalidDefaultArgInFrom", "Default value for ARG $IMAGE results in empty or invalid base image name", 3]], "buildArgs": {"IMAGE": "busybox:latest"}},
    {"dockerfile": "\nARG SFX=\"box:\"\nFROM busy${SFX}\n", "warnings": [["InvalidDefaultArgInFrom", "Default value for ARG busy${SFX} results in empty or invalid base image name", 3]], "buildArgs": {"SFX": "box:latest"}},
    {"dockerfile": "\nARG VERSION=\"latest\"\nFROM busybox:${VERSION}\n", "warnings": [], "buildArgs": {"VERSION": "latest"}},
    {"dockerfile": "\nARG BUSYBOX_VARIANT=\"\"\nFROM busybox:stable${BUSYBOX_VARIANT}\n", "warnings": [], "buildArgs": {"BUSYBOX_VARIANT": "-musl"}},
    {"dockerfile": "\n\tARG BUSYBOX_VARIANT\n\tFROM busybox:stable${BUSYBOX_VARIANT}\n\t", "warnings": [], "buildArgs": {"BUSYBOX_VARIANT": "-musl"}},
  ],
  testFromPlatformFlagConstDisallowed: [
    {"dockerfile": "\nFROM --platform=linux/amd64 scratch\n", "warnings": [["FromPlatformFlagConstDisallowed", "FROM --platform flag should not use constant value \"linux/amd64\"", 2]]},
    {"dockerfile": "\nFROM --platform=linux/amd64 scratch AS my_amd64_stage\n", "warnings": []},
    {"dockerfile": "\nFROM --platform=linux/amd64 scratch AS linux\n", "warnings": []},
  ],
  testExposeProtoCasing: [
    {"dockerfile": "\nFROM scratch\nEXPOSE 80/TcP 8080/TCP 8080/udp\n", "warnings": [["ExposeProtoCasing", "Defined protocol '80/TcP' in EXPOSE instruction should be lowercase", 3], ["ExposeProtoCasing", "Defined protocol '8080/TCP' in EXPOSE instruction should be lowercase", 3]]},
  ],
  testExposeInvalidFormat: [
    {"dockerfile": "\nFROM scratch\nEXPOSE 127.0.0.1:80:80 [::1]:8080:8080 5000:5000 8000\n", "warnings": [["ExposeInvalidFormat", "EXPOSE instruction should not define an IP address or host-port mapping, found '127.0.0.1:80:80'", 3], ["ExposeInvalidFormat", "EXPOSE instruction should not define an IP address or host-port mapping, found '[::1]:8080:8080'", 3], ["ExposeInvalidFormat", "EXPOSE instruction should not define an IP address or host-port mapping, found '5000:5000'", 3]]},
  ],
};
