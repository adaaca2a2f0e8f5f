int stamp(int value);
