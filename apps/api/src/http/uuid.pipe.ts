import { Injectable, type PipeTransform } from '@nestjs/common';
import { InvalidIdError } from '@app/common';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Injectable()
export class UuidPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UUID.test(value)) throw new InvalidIdError(value);
    return value.toLowerCase();
  }
}
