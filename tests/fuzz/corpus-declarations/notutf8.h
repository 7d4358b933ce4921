int ÿş(int);
