import { JsonSchema, fields, overrides, parseValue, variants } from './schema-form';

const schema: JsonSchema = {
  discriminator: { propertyName: 'method', mapping: { pocs: '#/$defs/r_pocs', linear: '#/$defs/r_linear' } },
  oneOf: [{ $ref: '#/$defs/r_pocs' }, { $ref: '#/$defs/r_linear' }],
  $defs: {
    r_pocs: {
      properties: {
        method: { const: 'pocs', type: 'string' },
        n_iter: { type: 'integer', default: 60, title: 'N Iter' },
        workers: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'null' }], default: null, title: 'Workers' },
        window: { anyOf: [{ type: 'array' }, { type: 'integer' }, { type: 'null' }], default: null },
        schedule: { type: 'string', enum: ['linear', 'exponential'], default: 'exponential' },
      },
    },
    r_linear: { properties: { method: { const: 'linear', type: 'string' } } },
  },
};

describe('schema form', () => {
  it('lists the methods of a discriminated operation and the fields of one', () => {
    const v = variants(schema);
    expect(Object.keys(v.schemas)).toEqual(['pocs', 'linear']);
    const fs = fields(v.schemas['pocs'], v.discriminator);
    expect(fs.map((f) => [f.name, f.kind, f.nullable])).toEqual([
      ['n_iter', 'integer', false],
      ['workers', 'integer', true],
      ['window', 'json', true],
      ['schedule', 'enum', false],
    ]);
  });

  it('sends only the method and the values that differ from the defaults', () => {
    const v = variants(schema);
    const fs = fields(v.schemas['pocs'], 'method');
    expect(overrides('reconstruct', 'method', 'pocs', fs, { n_iter: '60', workers: '', window: '[32, 128]', schedule: 'linear' })).toEqual({
      'reconstruct.method': 'pocs',
      'reconstruct.window': [32, 128],
      'reconstruct.schedule': 'linear',
    });
  });

  it('rejects bad input with the field named', () => {
    const [nIter, workers] = fields(variants(schema).schemas['pocs'], 'method');
    expect(() => parseValue(nIter, '2.5')).toThrow(/N Iter/);
    expect(() => parseValue(workers, '0')).toThrow(/at least 1/);
  });
});
