// Counts the vowels of its input and answers {"count": n}: the classic first plug-in.
import { inputBytes, outputString } from "@tenon/pdk";

function isVowel(c: u8): bool {
  switch (c | 0x20) {
    case 0x61: // a
    case 0x65: // e
    case 0x69: // i
    case 0x6f: // o
    case 0x75: // u
      return true;
    default:
      return false;
  }
}

export function count_vowels(): i32 {
  const input = inputBytes();
  let count = 0;
  for (let i = 0; i < input.length; i++) if (isVowel(input[i])) count++;
  outputString('{"count":' + count.toString() + "}");
  return 0;
}
