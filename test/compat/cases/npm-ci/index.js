'use strict';
const isNumber = require('is-number');
const ms = require('ms');

console.log(JSON.stringify({ fortyTwo: isNumber(42), word: isNumber('forty-two'), day: ms('1d') }));
